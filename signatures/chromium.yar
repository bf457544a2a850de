// Embedded browsers. A copy of Chromium is a copy of libwebp, libvpx and libpng (third_party/),
// unless it was built against the system's (Debian's Qt WebEngine). Electron and CEF rules follow
// their sources (electron/electron, chromiumembedded/cef): no Electron or CEF binary is in a
// registry this project reaches, so they are not yet checked on real binaries.

rule chromium_product {
  meta:
    library = "chromium"
    sonames = ""
    symbols = ""
    evidence = "product-version-string"
    confidence = "medium"
    version_from = "$ver"
    version_regex = "^([0-9]+\\.0\\.[0-9]{4}\\.[0-9]{1,3})\\x00$"
  strings:
    // Chromium's version is a bare NUL-terminated "156.0.8078.79" (the user agent is built at run
    // time); Blink's class names and the Chrome URL scheme tell it is Chromium.
    $ver = /[1-9][0-9]{1,2}\.0\.[0-9]{4}\.[0-9]{1,3}\x00/
    $blink = "blink::"
    $scheme = "chrome://"
  condition:
    $ver and $blink and $scheme
}

rule electron_product {
  meta:
    library = "electron"
    sonames = ""
    symbols = ""
    evidence = "user-agent-product"
    confidence = "high"
    version_from = "$ver"
    version_regex = "Electron/([0-9]+\\.[0-9]+\\.[0-9]+(-(alpha|beta|nightly)\\.[0-9]+)?)"
  strings:
    // shell/common/application_info.cc joins the user agent's product at compile time:
    // "Chrome/" CHROME_VERSION_STRING " Electron/" ELECTRON_VERSION_STRING is one literal
    // ("Chrome/120.0.6099.129 Electron/28.1.0"; ATOM_* macros before v7). Only the Mozilla/...
    // wrapper is added at run time. The pattern keeps the last digit of the Chrome version: the
    // whole "Chrome/..." prefix with the three strings below measured 540 MB/s alone, this 5400.
    $ver = /[0-9] Electron\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-(alpha|beta|nightly)\.[0-9]{1,8})?/
    // Corroboration, any one: the fuse wire sentinel (build/fuses/build.py, v12+), the archive
    // names node_bindings.cc opens (default_app.asar: C++ from v28, electron.asar: C++ before v7,
    // later inside embedded JS). Not `wide` for the JS that js2c stores as UTF-16: atoms full of
    // NULs cut the whole signature set's speed from ~530 to ~230 MB/s (bench/rules-bench.mts).
    $fuse = "dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX"
    $asar1 = "electron.asar"
    $asar2 = "default_app.asar"
  condition:
    $ver and any of ($fuse, $asar1, $asar2)
}

rule cef_version {
  meta:
    library = "cef"
    sonames = "libcef.so"
    symbols = "cef_initialize, cef_execute_process, cef_api_hash"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "^[^0-9.]([0-9]+\\.[0-9]+\\.[0-9]+)[-+]"
  strings:
    // CEF_VERSION from tools/make_version_header.py / cef_version.py: "120.1.10+g3ce3184+chromium-
    // 120.0.6099.129" (branch builds: "121.0.0-master.N+g...+chromium-..."). libcef keeps it as a
    // literal (crash_reporter_client.h: product_version_ = CEF_VERSION; about:version). No "CEF/"
    // token exists on Linux, and "Chromium Embedded Framework" is only in Mac and Windows files.
    // The byte before must not be a digit or a dot, or "20.1.10+g..." would match inside "120.1.10+g...".
    $ver = /[^0-9.][0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,4}(-[A-Za-z0-9_]+\.[0-9]+)?\+g[0-9a-f]{7}\+chromium-[0-9]+\.0\.[0-9]{4}\.[0-9]{1,3}/
    // libcef.lst exports cef_* functions. (CEF 3's "3.3239.1723.g1234567", up to 2019, has no
    // literal long enough to give YARA-X an atom: a rule for it halved the whole set's speed. Its
    // Chromium is still found by chromium_product.)
    $fn1 = "cef_initialize"
    $fn2 = "cef_execute_process"
    $fn3 = "cef_api_hash"
  condition:
    $ver and 2 of ($fn*)
}
