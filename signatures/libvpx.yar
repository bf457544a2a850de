// libvpx. Each codec interface carries its name and VERSION_STRING, e.g.
// "WebM Project VP8 Decoder v1.12.0"; vendored copies often carry git-describe versions
// ("v1.13.0-372-g2245df50a"), kept whole.

rule libvpx_codec_version {
  meta:
    library = "libvpx"
    sonames = "libvpx.so.*"
    symbols = "vpx_codec_version, vpx_codec_version_str, vpx_codec_dec_init_ver"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "WebM Project VP[89] [A-Za-z]+coder v([0-9]+\\.[0-9]+\\.[0-9]+(-[0-9]+-g[0-9a-f]+)?)"
  strings:
    $ver = /WebM Project VP[89] (En|De)coder v[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+-g[0-9a-f]+)?/
  condition:
    $ver
}
