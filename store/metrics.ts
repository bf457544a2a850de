// Counters for /metrics, read from the results store that every worker host shares: runs by
// state, store paths by status with their bytes, and the NAR throughput of the last 5 minutes.
import type { Queryable } from './database.ts';

export interface StoreMetrics {
  runsByState: { state: string; count: number }[];
  pathsByStatus: { status: string; count: number; downloadedBytes: number; narBytes: number }[];
  /** NAR bytes per second settled over the last 5 minutes (0 when idle). */
  recentNarBytesPerSecond: number;
}

export async function storeMetrics(db: Queryable): Promise<StoreMetrics> {
  const runs = await db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM runs GROUP BY state ORDER BY state');
  const paths = await db.query<{ status: string; n: string; down: string; nar: string }>(
    'SELECT status, count(*) AS n, COALESCE(sum(downloaded_bytes), 0) AS down, COALESCE(sum(nar_bytes), 0) AS nar FROM run_paths GROUP BY status ORDER BY status',
  );
  const recent = await db.query<{ nar: string; seconds: string | null }>(
    "SELECT COALESCE(sum(nar_bytes), 0) AS nar, EXTRACT(EPOCH FROM (max(updated_at) - min(updated_at))) AS seconds FROM run_paths WHERE updated_at > now() - interval '5 minutes'",
  );
  const seconds = Number(recent.rows[0]?.seconds ?? 0);
  return {
    runsByState: runs.rows.map((r) => ({ state: r.state, count: Number(r.n) })),
    pathsByStatus: paths.rows.map((r) => ({ status: r.status, count: Number(r.n), downloadedBytes: Number(r.down), narBytes: Number(r.nar) })),
    recentNarBytesPerSecond: seconds > 0 ? Number(recent.rows[0]?.nar ?? 0) / seconds : 0,
  };
}
