// Prometheus text for /metrics: the store's counters (shared by every worker host) and queue
// depths when BullMQ is in use. Formatting only: the numbers come from store/metrics.ts.
import type { StoreMetrics } from '../../store/metrics.ts';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export function metricsText(m: StoreMetrics, queue: QueueCounts | null): string {
  const lines: string[] = [];
  lines.push('# HELP vendorscan_runs Runs by state.', '# TYPE vendorscan_runs gauge');
  for (const r of m.runsByState) lines.push(`vendorscan_runs{state="${r.state}"} ${r.count}`);
  lines.push('# HELP vendorscan_paths_total Store paths settled, by status, over all runs.', '# TYPE vendorscan_paths_total counter');
  for (const r of m.pathsByStatus) lines.push(`vendorscan_paths_total{status="${r.status}"} ${r.count}`);
  const down = m.pathsByStatus.reduce((a, r) => a + r.downloadedBytes, 0);
  const nar = m.pathsByStatus.reduce((a, r) => a + r.narBytes, 0);
  lines.push('# HELP vendorscan_downloaded_bytes_total Compressed NAR bytes downloaded.', '# TYPE vendorscan_downloaded_bytes_total counter', `vendorscan_downloaded_bytes_total ${down}`);
  lines.push('# HELP vendorscan_nar_bytes_total Uncompressed NAR bytes scanned.', '# TYPE vendorscan_nar_bytes_total counter', `vendorscan_nar_bytes_total ${nar}`);
  lines.push('# HELP vendorscan_throughput_bytes_per_second NAR bytes scanned per second over the last 5 minutes.', '# TYPE vendorscan_throughput_bytes_per_second gauge');
  lines.push(`vendorscan_throughput_bytes_per_second ${m.recentNarBytesPerSecond.toFixed(0)}`);
  if (queue) {
    lines.push('# HELP vendorscan_jobs Queue jobs by state.', '# TYPE vendorscan_jobs gauge');
    for (const [state, n] of Object.entries(queue)) lines.push(`vendorscan_jobs{state="${state}"} ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
