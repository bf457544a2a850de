-- Per-file warnings of a NAR scan: what the archive walker met inside a store path's archives (a
-- zip bomb, an asar whose header lies, a cap reached) and therefore did not read. They belong to
-- the NAR and the ruleset like the findings do, so a linked (unchanged) path keeps them.
ALTER TABLE nar_scans ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;
