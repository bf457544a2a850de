// SQLite: presence from the amalgamation's own strings. Its version is a bare "3.40.1"; a pattern
// for it (/3\.[0-9]{2}\.[0-9]{1,2}\x00/) cut the whole rule set's scan speed from ~580 to ~250 MB/s
// (bench/rules-bench.mts), so the version is left unknown until a cheaper reader exists.

rule sqlite_presence {
  meta:
    library = "sqlite"
    sonames = "libsqlite3.so.0"
    symbols = "sqlite3_libversion, sqlite3_open, sqlite3_open_v2"
    evidence = "presence-string"
    confidence = "high"
  strings:
    $p1 = "unable to open database file"
    $p2 = "sqlite_master"
    $p3 = "SQLite format 3"
  condition:
    all of them
}
