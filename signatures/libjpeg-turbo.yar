// libjpeg-turbo: jversion.h's "libjpeg-turbo version 2.1.5 (build 20230203)".

rule libjpeg_turbo_version {
  meta:
    library = "libjpeg-turbo"
    sonames = "libjpeg.so.62, libjpeg.so.8, libturbojpeg.so.0"
    symbols = "jpeg_CreateDecompress, jpeg_CreateCompress, tjInitDecompress, tj3Init"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "libjpeg-turbo version ([0-9]+\\.[0-9]+\\.[0-9]+)"
  strings:
    $ver = /libjpeg-turbo version [0-9]+\.[0-9]+\.[0-9]+/
  condition:
    $ver
}
