-- Faults a run met and survived, per store path (issue 13: "the faults visible in the run's
-- counters"): requests and downloads begun again (5xx, 429, resets, stalls), and how often a job
-- took the path up (more than once: its job was lost or killed and ran again).
ALTER TABLE run_paths ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE run_paths ADD COLUMN attempts integer NOT NULL DEFAULT 0;
