-- Runaway searches and dead processes. A search can be cancelled; a run or search left `running`
-- by a process that died is `interrupted` (and can be resumed). A search has a deadline: past it,
-- its remaining paths are reported timed out instead of scanned.
ALTER TABLE searches DROP CONSTRAINT searches_state_check;
ALTER TABLE searches ADD CONSTRAINT searches_state_check CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'));
ALTER TABLE searches ADD COLUMN deadline timestamptz;
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'));

-- /v1/vendors totals of completed runs (their results never change): counted once per query.
CREATE TABLE vendor_counts (
  run_id    bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  query_key text NOT NULL,
  total     bigint NOT NULL,
  PRIMARY KEY (run_id, query_key)
);
