// What the queue should hold for runs and searches that are not finished: asked by the reconciler
// when the queue is idle but work is pending, which happens only when the queue lost its jobs
// (Redis restarted without persistence, or was replaced).
import type { Queryable } from './database.ts';

export interface LostWork {
  /** Runs to plan again: queued, or running with their source not fully read (total unknown). */
  plans: number[];
  /** Runs with registered paths still pending. */
  runPaths: { runId: number; paths: string[] }[];
  /** Searches with paths still pending. */
  searchPaths: { searchId: number; paths: string[] }[];
}

export async function findLostWork(db: Queryable): Promise<LostWork> {
  const plans = await db.query<{ id: string }>("SELECT id FROM runs WHERE state = 'queued' OR (state = 'running' AND total IS NULL) ORDER BY id");
  const runs = await db.query<{ run_id: string; path: string }>(
    "SELECT rp.run_id, sp.path FROM run_paths rp JOIN runs r ON r.id = rp.run_id JOIN store_paths sp ON sp.id = rp.store_path_id WHERE r.state = 'running' AND rp.status = 'pending' ORDER BY rp.run_id, sp.path",
  );
  const searches = await db.query<{ search_id: string; path: string }>(
    "SELECT x.search_id, sp.path FROM search_paths x JOIN searches s ON s.id = x.search_id JOIN store_paths sp ON sp.id = x.store_path_id WHERE s.state IN ('queued', 'running') AND x.status = 'pending' ORDER BY x.search_id, sp.path",
  );
  const group = <K extends string>(rows: ({ path: string } & Record<K, string>)[], key: K): Map<number, string[]> => {
    const out = new Map<number, string[]>();
    for (const r of rows) {
      const id = Number(r[key]);
      const list = out.get(id) ?? [];
      list.push(r.path);
      out.set(id, list);
    }
    return out;
  };
  return {
    plans: plans.rows.map((r) => Number(r.id)),
    runPaths: [...group(runs.rows, 'run_id')].map(([runId, paths]) => ({ runId, paths })),
    searchPaths: [...group(searches.rows, 'search_id')].map(([searchId, paths]) => ({ searchId, paths })),
  };
}
