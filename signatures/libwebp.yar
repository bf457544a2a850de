// libwebp has no version string. Evidence, strongest first:
//  - WebPGetDecoderVersion/WebPGetEncoderVersion compile on x86-64 to `mov eax, imm32; ret` with
//    imm32 = major<<16 | minor<<8 | revision (Debian's 1.2.4: b8 04 02 01 00 c3), at a 16-byte
//    aligned function start. Static copies usually drop these functions. The pattern alone is
//    common (any function returning a small constant), so the rule also needs the exported
//    symbol name: a static ffmpeg had an aligned `mov eax, 0x10700; ret` of something else.
//  - sharp's prebuilt libvips (libvips-cpp.so) pins its bundled libwebp; its versions.json maps
//    the libvips version compiled into the binary to the libwebp version (see EVIDENCE.md).
//  - otherwise the VP8 decoder's error strings prove presence, version unknown.

rule libwebp_version_function {
  meta:
    library = "libwebp"
    sonames = "libwebp.so.*, libwebpdecoder.so.*"
    symbols = "WebPGetDecoderVersion, WebPDecode, WebPGetInfo"
    evidence = "exported-version-function"
    confidence = "high"
    version_packed = "$fn"
    version_packed_offset = 1
    version_packed_align = 16
  strings:
    // The 6-byte function is padded to the next 16 bytes by GCC's 10-byte nop or clang's int3s;
    // naming that padding gives YARA-X a long atom (the bare pattern scans at ~2 GB/s).
    $fn = { b8 0? 0? 01 00 c3 ( 66 2e 0f 1f 84 00 00 00 00 00 | cc cc cc cc cc cc cc cc cc cc ) }
    $sym = /WebPGet(Decoder|Encoder)Version\x00/
    $p1 = "no memory during frame initialization."
    $p2 = "cannot parse filter header"
    $p3 = "Incorrect keyframe parameters."
  condition:
    $fn and $sym and 2 of ($p*)
}

rule libwebp_sharp_libvips_pin {
  meta:
    library = "libwebp"
    sonames = "libwebp.so.*, libwebpdecoder.so.*"
    symbols = "WebPGetDecoderVersion, WebPDecode, WebPGetInfo"
    evidence = "product-pin"
    confidence = "medium"
    version_from = "$vips"
    version_regex = "^\\x00(8\\.[0-9]+\\.[0-9]+(-rc[0-9]+)?)\\x00$"
    version_map = "8.15.0=1.3.2 8.15.1=1.3.2 8.15.2=1.3.2 8.15.3=1.4.0 8.15.5-rc1=1.4.0 8.16.1=1.5.0 8.17.1=1.5.0 8.17.3=1.6.0 8.18.3=1.6.0 8.18.7=1.6.0"
  strings:
    $vips = /\x008\.1[5-9]\.[0-9]{1,2}(-rc[0-9])?\x00/
    $libvips = "WebP load/save with libwebp: true"
    $p1 = "no memory during frame initialization."
    $p2 = "cannot parse filter header"
    $p3 = "Incorrect keyframe parameters."
  condition:
    $vips and $libvips and 2 of ($p*)
}

rule libwebp_presence {
  meta:
    library = "libwebp"
    sonames = "libwebp.so.*, libwebpdecoder.so.*"
    symbols = "WebPGetDecoderVersion, WebPDecode, WebPGetInfo"
    evidence = "presence-string"
    confidence = "high"
  strings:
    $p1 = "no memory during frame initialization."
    $p2 = "cannot parse filter header"
    $p3 = "Incorrect keyframe parameters."
    $p4 = "cannot parse segment header"
    $p5 = "Could not decode alpha data."
  condition:
    3 of them
}
