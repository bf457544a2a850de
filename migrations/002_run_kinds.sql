-- Runs have a kind and a scope. Only library scans (the bundled or configured signatures over a
-- channel or a path list) answer "who vendors X"; ad-hoc scans (needle, hex, a user's rule) are
-- kept but never become "the latest run". The scope's channel and its revision (where the channel
-- host says which) are columns, so the latest completed scan of a channel is one index look-up.
ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'library-scan' CHECK (kind IN ('library-scan', 'adhoc-scan'));
ALTER TABLE runs ADD COLUMN channel text;
ALTER TABLE runs ADD COLUMN channel_revision text;
UPDATE runs SET channel = source ->> 'channel' WHERE source ->> 'kind' = 'channel';
CREATE INDEX runs_latest_library_scan ON runs (channel, finished_at DESC) WHERE state = 'completed' AND kind = 'library-scan';
