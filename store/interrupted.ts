// Runs and searches whose process died. In the embedded store one process holds the data dir at a
// time (data-dir-lock.ts), so whatever is still queued or running when it opens was left by a
// process that is gone: it is marked `interrupted`, which an answer can say, and a run can be
// resumed (`vendorscan scan --resume RUN`): its settled paths are kept, the rest are scanned.
import type { Queryable } from './database.ts';
import { runDefinition, type RunDefinition } from './runs.ts';
import { VendorscanError } from '../errors/errors.ts';

export const INTERRUPTED = 'interrupted: the process running it stopped before it finished (resume with vendorscan scan --resume RUN)';

/** Marks every queued or running run and search as interrupted; returns how many of each. */
export async function markAllInterrupted(db: Queryable): Promise<{ runs: number; searches: number }> {
  const runs = await db.query<{ id: string }>("UPDATE runs SET state = 'interrupted', error = $1 WHERE state IN ('queued', 'running') RETURNING id", [INTERRUPTED]);
  const searches = await db.query<{ id: string }>("UPDATE searches SET state = 'interrupted' WHERE state IN ('queued', 'running') RETURNING id");
  return { runs: runs.rows.length, searches: searches.rows.length };
}

export class ResumeError extends VendorscanError {
  constructor(message: string) {
    super('VS_RESUME', 'usage', message);
  }
}

export interface Resumable {
  run: RunDefinition;
  /** Store paths the run has settled already (scanned, linked, not in cache, failed): not scanned again. */
  settled: Set<string>;
  /** Store paths it registered and has not settled. */
  pending: string[];
}

/** Reopens an interrupted run: queued again, with what it settled and what is left. */
export async function reopenInterruptedRun(db: Queryable, runId: number, digest: string): Promise<Resumable> {
  const run = await runDefinition(db, runId);
  if (!run) throw new ResumeError(`run ${runId} does not exist`);
  const { rows } = await db.query<{ state: string }>('SELECT state FROM runs WHERE id = $1', [runId]);
  const state = rows[0]?.state;
  if (state !== 'interrupted') {
    const live = state === 'queued' || state === 'running' ? ' (on PostgreSQL, a run whose process died is marked interrupted once it has missed 3 heartbeats, VENDORSCAN_HEARTBEAT_MS)' : '';
    throw new ResumeError(`run ${runId} is ${state}, not interrupted: only an interrupted run can be resumed${live}`);
  }
  if (run.digest !== digest) throw new ResumeError(`run ${runId} used signatures ${run.digest.slice(0, 12)}, these are ${digest.slice(0, 12)}: resume it with the same signatures`);
  const paths = await db.query<{ path: string; status: string }>('SELECT sp.path, rp.status FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1', [runId]);
  // Owned by nobody until the resuming process claims it (store/owners.ts): a sweep in between leaves it alone.
  await db.query("UPDATE runs SET state = 'queued', error = NULL, finished_at = NULL, total = NULL, owner = NULL WHERE id = $1", [runId]);
  return {
    run,
    settled: new Set(paths.rows.filter((r) => r.status !== 'pending').map((r) => r.path)),
    pending: paths.rows.filter((r) => r.status === 'pending').map((r) => r.path).sort(),
  };
}

/** After a resumed run's source was read: its total is every path it registered. */
export async function setTotalFromRegistered(db: Queryable, runId: number): Promise<void> {
  await db.query('UPDATE runs SET total = (SELECT count(*) FROM run_paths WHERE run_id = $1) WHERE id = $1', [runId]);
}

/**
 * Reopens an interrupted run for the service (`POST /v1/scans/:id/resume`): queued again, its
 * settled paths kept. A path list's total is known at once (its paths are registered); a channel's
 * is set again when its plan reads the channel. Returns the run, for the plan job.
 */
export async function reopenInterruptedRunForService(db: Queryable, runId: number, digest: string): Promise<RunDefinition> {
  const reopened = await reopenInterruptedRun(db, runId, digest);
  if (reopened.run.source.kind !== 'channel') await setTotalFromRegistered(db, runId);
  return reopened.run;
}

/** Reopens an interrupted search (`POST /v1/searches/:id/resume`): running again (its paths are registered); its settled paths and matches are kept. */
export async function reopenInterruptedSearch(db: Queryable, searchId: number): Promise<void> {
  const { rows } = await db.query<{ state: string }>('SELECT state FROM searches WHERE id = $1', [searchId]);
  const state = rows[0]?.state;
  if (state === undefined) throw new ResumeError(`search ${searchId} does not exist`);
  if (state !== 'interrupted') throw new ResumeError(`search ${searchId} is ${state}, not interrupted: only an interrupted search can be resumed`);
  await db.query("UPDATE searches SET state = 'running', finished_at = NULL, owner = NULL WHERE id = $1 AND state = 'interrupted'", [searchId]);
}
