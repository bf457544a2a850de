-- Linkage of each finding (formats/linkage.ts): 'copy' (the file defines the library's code, or is
-- the library), 'built-against' (it NEEDs the library's soname and imports its functions; the hit
-- was header strings only, not a copy) or 'unknown' (not ELF nor ar, stripped, or read in windows).
-- Findings stored before this migration were never checked: 'unknown', like any unchecked file,
-- so they stay possible copies. Changing the signatures' meta changes the ruleset digest, so the
-- next run rescans and records the linkage.
ALTER TABLE findings
  ADD COLUMN linkage text NOT NULL DEFAULT 'unknown' CHECK (linkage IN ('copy', 'built-against', 'unknown')),
  ADD COLUMN linkage_reason text NOT NULL DEFAULT 'stored before linkage was read';
