// zlib: deflate.c and inflate.c carry copyright strings with the version
// (" deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark Adler ").
// zlib-ng in compat mode reports "1.3.0.zlib-ng".

rule zlib_copyright_version {
  meta:
    library = "zlib"
    sonames = "libz.so.1"
    symbols = "zlibVersion, inflateInit_, deflateInit_, inflate, deflate"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "(?:de|in)flate ([0-9]+\\.[0-9]+(\\.[0-9]+)*) Copyright"
  strings:
    $ver = /(de|in)flate [0-9]+\.[0-9]+(\.[0-9]+)* Copyright/
  condition:
    $ver
}

rule zlib_ng_compat {
  meta:
    library = "zlib-ng"
    sonames = "libz-ng.so.*, libz.so.1"
    symbols = "zlibng_version, zng_inflateInit, zng_deflateInit, zlibVersion"
    evidence = "version-string"
    confidence = "medium"
    version_from = "$ver"
    version_regex = "([0-9]+\\.[0-9]+\\.[0-9]+)\\.zlib-ng"
  strings:
    $ver = /[0-9]+\.[0-9]+\.[0-9]+\.zlib-ng/
  condition:
    $ver
}
