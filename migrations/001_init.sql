-- vendorscan results store. A NAR scanned under one ruleset is kept once (nar_scans) with its
-- findings; runs link store paths to those scans, so an unchanged NAR is linked, not rescanned.

CREATE TABLE store_paths (
  id      bigserial PRIMARY KEY,
  path    text NOT NULL UNIQUE,
  hash    text NOT NULL,
  pname   text NOT NULL,
  version text
);

CREATE TABLE nar_scans (
  id             bigserial PRIMARY KEY,
  nar_hash       text NOT NULL,
  ruleset_digest text NOT NULL,
  nar_size       bigint NOT NULL,
  files          integer NOT NULL,
  scanned_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (nar_hash, ruleset_digest)
);

CREATE TABLE findings (
  id          bigserial PRIMARY KEY,
  nar_scan_id bigint NOT NULL REFERENCES nar_scans (id) ON DELETE CASCADE,
  file        text NOT NULL,
  library     text NOT NULL,
  version     text,            -- null: no readable version
  version_raw text,            -- verbatim text when the version could not be parsed
  version_key text COLLATE "C", -- byte order = version order (versionSortKey); null when unknown
  rule        text NOT NULL,
  confidence  text NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
  evidence    text NOT NULL,
  matches     jsonb NOT NULL,
  UNIQUE (nar_scan_id, file, library, rule)
);
CREATE INDEX findings_scan_library ON findings (nar_scan_id, library, version_key);
CREATE INDEX findings_library_version ON findings (library, version_key);

-- Which packages are a library's own (not vendored): pname as Nix's parseDrvName gives it.
-- Filled by `migrate` from workers/findings/vendored.ts, the one list the scanner uses too.
CREATE TABLE library_packages (
  library text NOT NULL,
  pname   text NOT NULL,
  PRIMARY KEY (library, pname)
);

CREATE TABLE runs (
  id             bigserial PRIMARY KEY,
  source         jsonb NOT NULL,
  cache_url      text NOT NULL,
  ruleset_digest text NOT NULL,
  state          text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  total          integer,      -- null until the whole source has been read
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  finished_at    timestamptz
);
CREATE INDEX runs_completed ON runs (finished_at DESC) WHERE state = 'completed';

CREATE TABLE run_paths (
  run_id           bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  store_path_id    bigint NOT NULL REFERENCES store_paths (id),
  status           text NOT NULL CHECK (status IN ('pending', 'scanned', 'skipped-unchanged', 'not-in-cache', 'failed')),
  reason           text,
  nar_scan_id      bigint REFERENCES nar_scans (id),
  downloaded_bytes bigint NOT NULL DEFAULT 0,
  nar_bytes        bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, store_path_id)
);
CREATE INDEX run_paths_status ON run_paths (run_id, status);
CREATE INDEX run_paths_scan ON run_paths (run_id, nar_scan_id);

CREATE TABLE searches (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('yara', 'needle', 'hex')),
  pattern     text NOT NULL,
  scope       jsonb NOT NULL,
  cache_url   text NOT NULL,
  state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'completed', 'failed')),
  total       integer,
  created_at  timestamptz NOT NULL DEFAULT now(),
  first_match_at timestamptz,
  finished_at timestamptz
);

CREATE TABLE search_paths (
  search_id     bigint NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
  store_path_id bigint NOT NULL REFERENCES store_paths (id),
  status        text NOT NULL CHECK (status IN ('pending', 'scanned', 'not-in-cache', 'failed')),
  reason        text,
  PRIMARY KEY (search_id, store_path_id)
);

CREATE TABLE search_matches (
  search_id     bigint NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
  store_path_id bigint NOT NULL REFERENCES store_paths (id),
  file          text NOT NULL,
  rule          text NOT NULL,
  matches       jsonb NOT NULL,
  PRIMARY KEY (search_id, store_path_id, file, rule)
);
