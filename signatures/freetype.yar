// FreeType: presence from its module and property names; no version string is compiled in.

rule freetype_presence {
  meta:
    library = "freetype"
    sonames = "libfreetype.so.6"
    symbols = "FT_Init_FreeType, FT_Library_Version"
    evidence = "presence-string"
    confidence = "medium"
  strings:
    $p1 = "FREETYPE_PROPERTIES"
    $p2 = "FT_Init_FreeType"
    $p3 = "truetype"
  condition:
    $p1 and ($p2 or $p3)
}
