// Stopping searches: cancellation by a user, the per-search time budget (a deadline), and what a
// worker asks before it scans a path of a search. Kept apart from searches.ts (progress and
// results) so each file has one job.
import type { Database, Queryable } from './database.ts';

/** Sets a search's deadline: paths still pending after it are reported timed out. */
export async function setSearchDeadline(db: Queryable, searchId: number, budgetMs: number): Promise<void> {
  await db.query("UPDATE searches SET deadline = now() + make_interval(secs => $2::double precision / 1000) WHERE id = $1", [searchId, budgetMs]);
}

export const CANCELLED = 'search cancelled';

export type SearchGate = { go: true } | { go: false; reason: string } | null;

/** Whether a path of this search should still be scanned; null when the search does not exist. */
export async function searchGate(db: Queryable, searchId: number): Promise<SearchGate> {
  const { rows } = await db.query<{ state: string; expired: boolean }>('SELECT state, (deadline IS NOT NULL AND deadline < now()) AS expired FROM searches WHERE id = $1', [searchId]);
  const r = rows[0];
  if (!r) return null;
  if (r.state === 'cancelled') return { go: false, reason: CANCELLED };
  if (r.state !== 'running' && r.state !== 'queued') return { go: false, reason: `search is ${r.state}` };
  if (r.expired) return { go: false, reason: 'timed out: the search used up its time budget' };
  return { go: true };
}

/**
 * Cancels a search: its pending paths are settled as failed ("search cancelled") and it is
 * `cancelled` (an interrupted one too). Returns the state it had, or null if it does not exist; a
 * finished search is left as is.
 */
export async function cancelSearch(db: Database, searchId: number): Promise<string | null> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: string }>('SELECT state FROM searches WHERE id = $1 FOR UPDATE', [searchId]);
    const state = rows[0]?.state;
    if (state === undefined) return null;
    if (state !== 'queued' && state !== 'running' && state !== 'interrupted') return state;
    await tx.query("UPDATE search_paths SET status = 'failed', reason = $2 WHERE search_id = $1 AND status = 'pending'", [searchId, CANCELLED]);
    await tx.query("UPDATE searches SET state = 'cancelled', finished_at = now() WHERE id = $1", [searchId]);
    return state;
  });
}

export interface SearchProblem {
  storePath: string;
  status: string;
  reason: string;
}

/** Paths of a search with a reason (failed, timed out, cancelled), and how many timed out. */
export async function searchProblems(db: Queryable, searchId: number, limit = 1000): Promise<{ timedOut: number; problems: SearchProblem[] }> {
  const count = await db.query<{ n: string }>("SELECT count(*) AS n FROM search_paths WHERE search_id = $1 AND reason LIKE '%timed out%'", [searchId]);
  const { rows } = await db.query<{ path: string; status: string; reason: string }>(
    'SELECT sp.path, x.status, x.reason FROM search_paths x JOIN store_paths sp ON sp.id = x.store_path_id WHERE x.search_id = $1 AND x.reason IS NOT NULL ORDER BY sp.path LIMIT $2',
    [searchId, limit],
  );
  return { timedOut: Number(count.rows[0]?.n ?? 0), problems: rows.map((r) => ({ storePath: r.path, status: r.status, reason: r.reason })) };
}
