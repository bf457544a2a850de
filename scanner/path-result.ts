// What scanning one store path produces. Plain data: it crosses scan-thread boundaries.
import type { FileFinding } from '../signatures/finding.ts';

export type { FileFinding } from '../signatures/finding.ts';

export type PathStatus = 'scanned' | 'not-in-cache' | 'failed';

export interface PathResult {
  storePath: string;
  status: PathStatus;
  /** Why it failed, naming what was wrong. */
  reason?: string;
  narHash?: string;
  narSize?: number;
  /** Compressed bytes downloaded. */
  downloadedBytes: number;
  /** Uncompressed NAR bytes parsed. */
  narBytes: number;
  files: number;
  findings: FileFinding[];
  /**
   * Per-file warnings of a scanned path: what the archive walker met inside its archives (a bomb,
   * a header that lies, a cap reached), `file: what` or `archive!/member: what`. The path was still
   * scanned; these say what in it was not read.
   */
  warnings?: string[];
  durationMs: number;
  /** Downloads begun again after the body broke off (a stall or reset mid-NAR). */
  retries?: number;
  /** Files whose matching ran past the per-file time limit: not matched (ad-hoc searches). */
  timedOut?: string[];
  /** Set when the NAR was already scanned with the same ruleset: its stored scan is linked. */
  linkedNarScan?: number;
}
