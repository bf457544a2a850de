// Embedded browsers. A copy of Chromium is a copy of libwebp, libvpx and libpng (third_party/);
// Electron names itself in its user-agent token ("Electron/28.1.0").
// CEF names itself in its about/version strings.

rule chromium_product {
  meta:
    library = "chromium"
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
    evidence = "user-agent-product"
    confidence = "high"
    version_from = "$ver"
    version_regex = "Electron/([0-9]+\\.[0-9]+\\.[0-9]+(-(alpha|beta)\\.[0-9]+)?)"
  strings:
    $ver = /Electron\/[0-9]{1,3}\.[0-9]+\.[0-9]+(-(alpha|beta)\.[0-9]+)?/
    $electron = "electron.asar"
  condition:
    $ver and $electron
}

rule cef_version {
  meta:
    library = "cef"
    evidence = "version-string"
    confidence = "medium"
    version_from = "$ver"
    version_regex = "CEF[/ ]([0-9]+\\.[0-9]+\\.[0-9]+(\\+g[0-9a-f]+)?)"
  strings:
    $ver = /CEF[\/ ][0-9]+\.[0-9]+\.[0-9]+(\+g[0-9a-f]+)?/
    $cef = "Chromium Embedded Framework"
  condition:
    $ver and $cef
}
