// FFmpeg's libavcodec: LIBAVCODEC_IDENT ("Lavc58.35.100") names the libavcodec version.

rule libavcodec_ident {
  meta:
    library = "ffmpeg"
    sonames = "libavcodec.so.*"
    symbols = "avcodec_version, avcodec_configuration, avcodec_open2"
    evidence = "libavcodec-ident"
    confidence = "high"
    version_from = "$ver"
    version_regex = "Lavc([0-9]+\\.[0-9]+\\.[0-9]+)"
  strings:
    $ver = /Lavc[0-9]+\.[0-9]+\.[0-9]+/
  condition:
    $ver
}
