// libpng. PNG_HEADER_VERSION_STRING (" libpng version 1.6.39 - November 20, 2022") is compiled in
// by png.c in most builds; some (sharp's libvips) keep only PNG_LIBPNG_VER_STRING ("1.6.40"),
// which is trusted only next to libpng's own error strings (a program built against a shared
// libpng, such as FreeType, carries the bare string too, but none of these).

rule libpng_version_string {
  meta:
    library = "libpng"
    sonames = "libpng16.so.16, libpng12.so.0, libpng.so.*"
    symbols = "png_create_read_struct, png_get_libpng_ver, png_create_write_struct, png_access_version_number"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "libpng version ([0-9]+\\.[0-9]+\\.[0-9]+(rc[0-9]+|beta[0-9]+)?)"
  strings:
    $ver = /libpng version [0-9]+\.[0-9]+\.[0-9]+(rc[0-9]+|beta[0-9]+)?/
    $p1 = "Not a PNG file"
    $p2 = "Invalid IHDR data"
    $p3 = "PNG unsigned integer out of range"
    $p4 = "libpng does not support gamma+background+rgb_to_gray"
  condition:
    $ver and any of ($p*)
}

rule libpng_bare_version {
  meta:
    library = "libpng"
    sonames = "libpng16.so.16, libpng12.so.0, libpng.so.*"
    symbols = "png_create_read_struct, png_get_libpng_ver, png_create_write_struct, png_access_version_number"
    evidence = "bare-version-with-presence"
    confidence = "medium"
    version_from = "$ver"
    version_regex = "^(1\\.[56]\\.[0-9]{1,2})\\x00$"
  strings:
    // No leading NUL in the pattern: YARA-X finds no good atom in "\x001." and scans at ~1 GB/s.
    $ver = /1\.[56]\.[0-9]{1,2}\x00/
    $p1 = "Not a PNG file"
    $p2 = "Invalid IHDR data"
    $p3 = "PNG unsigned integer out of range"
    $p4 = "libpng does not support gamma+background+rgb_to_gray"
  condition:
    $ver and 2 of ($p*)
}

rule libpng_presence {
  meta:
    library = "libpng"
    sonames = "libpng16.so.16, libpng12.so.0, libpng.so.*"
    symbols = "png_create_read_struct, png_get_libpng_ver, png_create_write_struct, png_access_version_number"
    evidence = "presence-string"
    confidence = "medium"
  strings:
    $p1 = "Not a PNG file"
    $p2 = "Invalid IHDR data"
    $p3 = "PNG unsigned integer out of range"
    $p4 = "libpng does not support gamma+background+rgb_to_gray"
  condition:
    3 of them
}
