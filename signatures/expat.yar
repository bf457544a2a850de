// Expat: XML_ExpatVersion() returns "expat_2.5.0".

rule expat_version {
  meta:
    library = "expat"
    sonames = "libexpat.so.1, libexpatw.so.1"
    symbols = "XML_ParserCreate, XML_ExpatVersion, XML_Parse"
    evidence = "version-string"
    confidence = "high"
    version_from = "$ver"
    version_regex = "expat_([0-9]+\\.[0-9]+\\.[0-9]+)"
  strings:
    $ver = /expat_[0-9]+\.[0-9]+\.[0-9]+/
  condition:
    $ver
}
