// Runs and searches whose owning process died, on a shared PostgreSQL. A process that runs jobs
// itself (`serve` without Redis, `scan`) registers as an owner, refreshes its heartbeat every
// interval and stamps the runs and searches it takes with its id. Whoever sees an owner whose
// heartbeat is older than that owner's own stale limit (a multiple of its interval, written by the
// owner, so processes configured differently agree) removes it and marks what it held
// `interrupted`: resumable with `vendorscan scan --resume RUN`. Time is the database's (now()), so
// hosts with skewed clocks agree too. The embedded store needs none of this (one process holds
// it: data-dir-lock.ts), and Redis-mode runs have no owner (a dead worker's jobs are re-queued).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database, Queryable } from './database.ts';
import { INTERRUPTED } from './interrupted.ts';

/** How many heartbeat intervals without a beat make an owner dead. */
export const STALE_INTERVALS = 3;

/**
 * Removes owners whose heartbeat is stale and marks their queued or running runs and searches (and
 * any stamped with an owner that no longer exists) interrupted. Returns how many of each.
 */
export async function interruptDeadOwners(db: Database): Promise<{ runs: number; searches: number; owners: string[] }> {
  return db.transaction(async (tx) => {
    const dead = await tx.query<{ owner: string }>("DELETE FROM process_owners WHERE heartbeat_at < now() - stale_after_ms * interval '1 millisecond' RETURNING owner");
    const orphan = "state IN ('queued', 'running') AND owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM process_owners o WHERE o.owner = t.owner)";
    const runs = await tx.query<{ id: string }>(`UPDATE runs t SET state = 'interrupted', error = $1 WHERE ${orphan} RETURNING id`, [INTERRUPTED]);
    const searches = await tx.query<{ id: string }>(`UPDATE searches t SET state = 'interrupted' WHERE ${orphan} RETURNING id`);
    return { runs: runs.rows.length, searches: searches.rows.length, owners: dead.rows.map((r) => r.owner) };
  });
}

export interface ProcessOwner {
  readonly id: string;
  /** Stamps a run (queued or running) as this process's. */
  claimRun(runId: number): Promise<void>;
  claimSearch(searchId: number): Promise<void>;
  /** Stops the heartbeat and removes this owner: what it still held is interrupted at the next sweep, anywhere. */
  close(): Promise<void>;
}

export interface OwnerOptions {
  /** Heartbeat (and sweep) interval, ms. */
  intervalMs: number;
  /** What this process is (`serve`, `scan`), shown in the owners table. */
  command: string;
  /** Told when a sweep interrupted something, or when this owner was found removed (it beat too late). */
  onEvent?: (message: string) => void;
}

/**
 * Registers this process as an owner, sweeps dead owners once, then beats and sweeps every
 * interval until close(). A beat that finds this owner removed (the process stalled past its stale
 * limit, and its runs were interrupted) registers it again and says so.
 */
export async function startOwner(db: Database, options: OwnerOptions): Promise<ProcessOwner> {
  const id = randomUUID();
  const staleAfterMs = options.intervalMs * STALE_INTERVALS;
  const register = (q: Queryable): Promise<unknown> =>
    q.query('INSERT INTO process_owners (owner, pid, host, command, stale_after_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now()', [
      id,
      process.pid,
      hostname(),
      options.command,
      staleAfterMs,
    ]);
  await register(db);
  const sweep = async (): Promise<void> => {
    const r = await interruptDeadOwners(db);
    if (r.runs + r.searches > 0) options.onEvent?.(`${r.runs} run(s) and ${r.searches} search(es) of a process that stopped beating (${r.owners.length} owner(s) gone) marked interrupted`);
  };
  await sweep();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let beating: Promise<void> = Promise.resolve();
  const beat = async (): Promise<void> => {
    const { rows } = await db.query<{ owner: string }>('UPDATE process_owners SET heartbeat_at = now() WHERE owner = $1 RETURNING owner', [id]);
    if (rows.length === 0) {
      options.onEvent?.(`owner ${id} was removed: this process missed its heartbeat for over ${staleAfterMs} ms, and what it held was marked interrupted`);
      await register(db);
    }
    await sweep();
  };
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      // One beat at a time; a database that does not answer is tried again at the next beat.
      beating = beat().catch(() => undefined).finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  const claim = (table: 'runs' | 'searches') => async (rowId: number): Promise<void> => {
    await db.query(`UPDATE ${table} SET owner = $1 WHERE id = $2`, [id, rowId]);
  };
  return {
    id,
    claimRun: claim('runs'),
    claimSearch: claim('searches'),
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await beating;
      await db.query('DELETE FROM process_owners WHERE owner = $1', [id]).catch(() => undefined);
    },
  };
}
