-- Which process holds a run or search whose jobs live in that process (`serve` without Redis,
-- `scan`) on a shared PostgreSQL: each such process has a row here and refreshes its heartbeat;
-- the runs and searches it took carry its owner id. Any process that finds an owner's heartbeat
-- older than that owner's stale_after_ms removes the owner and marks its queued or running runs
-- and searches interrupted (resumable). Runs on Redis have no owner: their jobs outlive a worker.
CREATE TABLE process_owners (
  owner          text PRIMARY KEY,
  pid            integer NOT NULL,
  host           text NOT NULL,
  command        text NOT NULL,
  stale_after_ms integer NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE runs ADD COLUMN owner text;
ALTER TABLE searches ADD COLUMN owner text;
CREATE INDEX runs_owned ON runs (owner) WHERE owner IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX searches_owned ON searches (owner) WHERE owner IS NOT NULL AND state IN ('queued', 'running');
