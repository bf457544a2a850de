// Prometheus text for /metrics: run and path counters from the results store (shared by every
// worker host), and queue depths when BullMQ is in use.
import type { Queryable } from '../../store/database.ts';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export async function metricsText(db: Queryable, queue: QueueCounts | null): Promise<string> {
  const lines: string[] = [];
  const runs = await db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM runs GROUP BY state');
  lines.push('# HELP vendorscan_runs Runs by state.', '# TYPE vendorscan_runs gauge');
  for (const r of runs.rows) lines.push(`vendorscan_runs{state="${r.state}"} ${r.n}`);
  const paths = await db.query<{ status: string; n: string; down: string; nar: string }>(
    'SELECT status, count(*) AS n, COALESCE(sum(downloaded_bytes), 0) AS down, COALESCE(sum(nar_bytes), 0) AS nar FROM run_paths GROUP BY status',
  );
  lines.push('# HELP vendorscan_paths_total Store paths settled, by status, over all runs.', '# TYPE vendorscan_paths_total counter');
  for (const r of paths.rows) lines.push(`vendorscan_paths_total{status="${r.status}"} ${r.n}`);
  const down = paths.rows.reduce((a, r) => a + Number(r.down), 0);
  const nar = paths.rows.reduce((a, r) => a + Number(r.nar), 0);
  lines.push('# HELP vendorscan_downloaded_bytes_total Compressed NAR bytes downloaded.', '# TYPE vendorscan_downloaded_bytes_total counter', `vendorscan_downloaded_bytes_total ${down}`);
  lines.push('# HELP vendorscan_nar_bytes_total Uncompressed NAR bytes scanned.', '# TYPE vendorscan_nar_bytes_total counter', `vendorscan_nar_bytes_total ${nar}`);
  const recent = await db.query<{ nar: string; seconds: string | null }>(
    "SELECT COALESCE(sum(nar_bytes), 0) AS nar, EXTRACT(EPOCH FROM (max(updated_at) - min(updated_at))) AS seconds FROM run_paths WHERE updated_at > now() - interval '5 minutes'",
  );
  const secs = Number(recent.rows[0]?.seconds ?? 0);
  lines.push('# HELP vendorscan_throughput_bytes_per_second NAR bytes scanned per second over the last 5 minutes.', '# TYPE vendorscan_throughput_bytes_per_second gauge');
  lines.push(`vendorscan_throughput_bytes_per_second ${secs > 0 ? (Number(recent.rows[0]?.nar ?? 0) / secs).toFixed(0) : 0}`);
  if (queue) {
    lines.push('# HELP vendorscan_jobs Queue jobs by state.', '# TYPE vendorscan_jobs gauge');
    for (const [state, n] of Object.entries(queue)) lines.push(`vendorscan_jobs{state="${state}"} ${n}`);
  }
  return lines.join('\n') + '\n';
}
