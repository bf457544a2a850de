// Drives a scan: feeds store paths to the pool with at most `concurrency` in flight, and reports
// every result and running totals as they come. The path list is streamed, never held whole.
import { ScanThreadPool } from './scan-thread-pool.ts';
import type { PathResult } from './path-result.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import type { ScanThreadConfig } from './scan-thread-protocol.ts';

export interface ScanProgress {
  /** Store paths known so far (the whole list once it has been read). */
  total: number;
  totalKnown: boolean;
  done: number;
  scanned: number;
  notInCache: number;
  failed: number;
  findings: number;
  downloadedBytes: number;
  narBytes: number;
  /** Since the scan threads were ready (thread start-up and rule compilation excluded). */
  elapsedMs: number;
}

export interface ScanSummary extends ScanProgress {
  failures: { storePath: string; reason: string }[];
  /** Scanned paths with per-file warnings (archives not wholly read), each warning as found. */
  warnings: { storePath: string; warnings: string[] }[];
  /** Starting the scan threads (loading code, compiling rules). */
  startupMs: number;
  /** Uncompressed NAR MB/s over the whole run. */
  narMBps: number;
}

/** What to do with a store path before scanning: settle it without a download, or scan it. */
export type Prepared = { done: PathResult } | { narInfo: NarInfo } | null;

export interface ScanRequest extends ScanThreadConfig {
  paths: AsyncIterable<string> | Iterable<string>;
  /** Store paths in flight at once (default: threads). */
  concurrency: number;
  threads: number;
  /** Awaited before the next result is counted (e.g. to store it). */
  onResult?(result: PathResult): unknown;
  /** Optional look-up before scanning (incremental runs: an unchanged NAR is not downloaded). */
  prepare?(storePath: string): Promise<Prepared>;
  onProgress?(progress: ScanProgress): void;
  /** Threads started ahead, with this request's configuration: runScan takes them over and closes them. */
  startedThreads?: StartedScanThreads;
}

/**
 * Scan threads started before the scan itself, so that their start (loading YARA-X, compiling the
 * rules: ~0.3 s) runs beside other work, as the CLI does while the embedded store opens. runScan
 * takes them over when a path needs them and closes them at its end, used or not; whoever started
 * them calls release() once the scan is over or was never begun (a no-op once taken).
 */
export class StartedScanThreads {
  private readonly pool: ScanThreadPool;
  private readonly ready: Promise<ScanThreadPool>;
  private onBytes: (downloaded: number, nar: number) => void = () => {};
  private taken = false;

  constructor(config: ScanThreadConfig, threads: number) {
    ({ pool: this.pool, ready: this.ready } = ScanThreadPool.begin(config, threads, (d, n) => this.onBytes(d, n)));
    // A pool that cannot start is reported where it is awaited (the first path's scan).
    this.ready.catch(() => undefined);
  }

  take(onBytes: (downloaded: number, nar: number) => void): Promise<ScanThreadPool> {
    this.taken = true;
    this.onBytes = onBytes;
    return this.ready;
  }

  /** Unused threads are stopped where they are, still starting or not: the command ends at once. */
  async release(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    await this.pool.kill();
  }
}

export async function runScan(request: ScanRequest): Promise<ScanSummary> {
  const { paths, concurrency, threads, onResult, onProgress, prepare, startedThreads, ...config } = request;
  let started = Date.now();
  const progress: ScanProgress = {
    total: 0,
    totalKnown: false,
    done: 0,
    scanned: 0,
    notInCache: 0,
    failed: 0,
    findings: 0,
    downloadedBytes: 0,
    narBytes: 0,
    elapsedMs: 0,
  };
  const failures: ScanSummary['failures'] = [];
  const warnings: ScanSummary['warnings'] = [];
  const report = (): void => {
    progress.elapsedMs = Date.now() - started;
    onProgress?.(progress);
  };
  // The threads start when the first path needs them (or were started ahead by the caller, and are
  // stopped unused): a run whose paths all settle without a download (unchanged NARs, not in
  // cache) scans with no thread.
  let pool: Promise<ScanThreadPool> | null = null;
  let startupMs = 0;
  const threadPool = (): Promise<ScanThreadPool> => {
    pool ??= (async () => {
      const asked = Date.now();
      const onBytes = (downloaded: number, nar: number): void => {
        progress.downloadedBytes += downloaded;
        progress.narBytes += nar;
      };
      const p = await (startedThreads ? startedThreads.take(onBytes) : ScanThreadPool.start(config, threads, onBytes));
      startupMs = Date.now() - asked;
      // Throughput is counted from when the threads were ready.
      started += startupMs;
      return p;
    })();
    return pool;
  };
  const ticker = setInterval(report, 250);
  const inFlight = new Set<Promise<void>>();
  try {
    for await (const storePath of paths) {
      progress.total++;
      const job = scanOne(threadPool, storePath, prepare).then(async (result) => {
        await onResult?.(result);
        progress.done++;
        if (result.status === 'scanned') progress.scanned++;
        else if (result.status === 'not-in-cache') progress.notInCache++;
        else {
          progress.failed++;
          failures.push({ storePath: result.storePath, reason: result.reason ?? 'unknown failure' });
        }
        progress.findings += result.findings.length;
        if (result.warnings && result.warnings.length > 0) warnings.push({ storePath: result.storePath, warnings: result.warnings });
      });
      const tracked = job.finally(() => inFlight.delete(tracked));
      // A pool that cannot start fails every job; the first failure stops the loop below.
      tracked.catch(() => undefined);
      inFlight.add(tracked);
      if (inFlight.size >= Math.max(1, concurrency)) await Promise.race(inFlight);
    }
    progress.totalKnown = true;
    await Promise.all(inFlight);
  } finally {
    clearInterval(ticker);
    if (pool) await (await (pool as Promise<ScanThreadPool>).catch(() => null))?.close();
    await startedThreads?.release();
  }
  report();
  const seconds = Math.max(progress.elapsedMs, 1) / 1000;
  return { ...progress, failures, warnings, startupMs, narMBps: progress.narBytes / 1e6 / seconds };
}

async function scanOne(pool: () => Promise<ScanThreadPool>, storePath: string, prepare: ScanRequest['prepare']): Promise<PathResult> {
  let prepared: Prepared = null;
  if (prepare) {
    // The look-up is an optimisation: if it fails, the thread fetches and reports on its own.
    prepared = await prepare(storePath).catch(() => null);
  }
  if (prepared && 'done' in prepared) return prepared.done;
  return (await pool()).scan(storePath, prepared?.narInfo);
}
