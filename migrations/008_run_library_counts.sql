-- A completed run's libraries and versions never change: counted once when the run completes
-- (or at the first question after it), then read back. Counting them per request took 7.5-8.4 s
-- at a million findings (issue 13: no page slower than 500 ms).
CREATE TABLE run_library_counts (
  run_id          bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  ord             integer NOT NULL,
  library         text NOT NULL,
  version         text,
  copies          bigint NOT NULL,
  store_paths     bigint NOT NULL,
  vendored_copies bigint NOT NULL,
  built_against   bigint NOT NULL,
  PRIMARY KEY (run_id, ord)
);
ALTER TABLE runs ADD COLUMN libraries_counted boolean NOT NULL DEFAULT false;
