// OpenSSL: OPENSSL_VERSION_TEXT ("OpenSSL 3.0.19 27 Jan 2026", "OpenSSL 1.1.1w  11 Sep 2023").
// BoringSSL (inside Chromium) has no such string.

rule openssl_version_text {
  meta:
    library = "openssl"
    sonames = "libcrypto.so.*, libssl.so.*"
    symbols = "OpenSSL_version, OpenSSL_version_num, SSLeay_version, SSL_CTX_new, EVP_DigestInit_ex"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "OpenSSL ([0-9]+\\.[0-9]+\\.[0-9]+[a-z]?)"
  strings:
    $ver = /OpenSSL [0-9]+\.[0-9]+\.[0-9]+[a-z]?(-[a-z0-9]+)? +[0-9]{1,2} [A-Z][a-z]{2} 20[0-9]{2}/
  condition:
    $ver
}
