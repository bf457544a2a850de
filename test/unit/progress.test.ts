// The progress line a person sees on a TTY while a scan runs.
import { describe, expect, it } from 'vitest';
import { progressLine, formatBytes, formatDuration } from '../../cli/progress-bar.ts';

describe('progress line', () => {
  const base = { total: 100, totalKnown: true, done: 25, scanned: 20, notInCache: 3, failed: 2, findings: 7, downloadedBytes: 40e6, narBytes: 120e6, elapsedMs: 10_000 };
  it('shows paths done/total, bytes, MB/s and an ETA', () => {
    expect(progressLine(base, 8)).toBe('[##------] 25/100 paths  120.0 MB NAR (40.0 MB down)  12.0 MB/s ETA 0:30  findings 7  failed 2');
  });
  it('marks a total still being read and has no ETA then', () => {
    expect(progressLine({ ...base, totalKnown: false }, 8)).toMatch(/ 25\/100\+ paths .* MB\/s {2}findings/);
  });
  it('formats sizes and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000_000)).toBe('1.50 GB');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});
