// What a worker does with each job kind. Used by BullMQ workers and by the in-process queue
// alike, so both behave the same. Every step is idempotent: a job retried after a crash redoes
// it without duplicating anything.
import type { Database } from '../../store/database.ts';
import { addRunPaths, completeRunIfSettled, pendingRunPaths, runDefinition, type RunDefinition, failPendingRunPaths, markPathsAttempted, markRunFailed, markRunStarted, recordPathResult, recordSettledResults, setChannelRevision, setRunTotal } from '../../store/runs.ts';
import { failPendingSearchPaths, markSearchFailed, pendingSearchPaths, recordSearchResult, searchProgress } from '../../store/searches.ts';
import { CANCELLED, searchGate } from '../../store/search-control.ts';
import type { SignatureSet } from '../../signatures/loader.ts';
import type { BinaryCache, CacheOptions } from '../../cache/binary-cache.ts';
import { openBinaryCache, redactUrl } from '../../cache/open.ts';
import { hexRule, needleRule, type RuleSource } from '../../yara/rule-source.ts';
import { channelStorePaths } from '../sources/channel.ts';
import { prepareBatch } from '../runs/incremental.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { retainSpareScanProcesses, type ScanThreadPool } from '../../scanner/scan-thread-pool.ts';
import type { NarInfo } from '../../nix/narinfo.ts';
import type { DecompressOptions } from '../../decompress/decompress.ts';
import { Limiter } from '../../cache/limiter.ts';
import { ScanThreadPools } from './thread-pools.ts';
import type { ScanJob } from './scan-queue.ts';
import { VendorscanError } from '../../errors/errors.ts';

export interface ProcessorOptions {
  db: Database;
  signatures: SignatureSet;
  threads: number;
  /** Store paths downloaded and scanned at once (default threads × 2); jobs that only link wait for none. */
  scanConcurrency?: number;
  cacheOptions: CacheOptions;
  channelsUrl: string;
  /** Adds jobs to the queue (BullMQ or in-process). */
  enqueue(jobs: ScanJob[]): Promise<void>;
  /** Counts for /metrics. */
  onPathResult?(result: PathResult): void;
  /** Searches (untrusted rules): a file whose matching takes longer is reported timed out (default 30 s). */
  fileTimeoutMs?: number;
  /** Decoder limits (largest zstd window / xz dictionary). */
  decompress?: DecompressOptions;
  /** Scan processes kept forked ahead for searches (serve and worker: 1), so a search starts without a Node start-up. */
  spareSearchProcesses?: number;
}

export const DEFAULT_FILE_TIMEOUT_MS = 30_000;

/** An error no retry will fix (the job fails at once). */
export class PermanentJobError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_JOB_PERMANENT', 'input', message, options);
  }
}

const PLAN_BATCH = 2048;

/** At most this many store paths per run job: a re-run links a batch with one query; a killed worker redoes at most one batch. */
export const RUN_BATCH = 32;
/** Fewer jobs than this and batches shrink, so that a small run is still spread over every worker. */
const MIN_JOBS = 64;

/** Splits a run's paths into jobs. */
export function runBatches(paths: string[]): string[][] {
  const size = Math.min(RUN_BATCH, Math.max(1, Math.ceil(paths.length / MIN_JOBS)));
  const out: string[][] = [];
  for (let i = 0; i < paths.length; i += size) out.push(paths.slice(i, i + size));
  return out;
}

/**
 * Jobs a queue may run at once for each scan slot. A path that only needs its narinfo and a link
 * to a stored scan costs a few round trips, not a scan slot: with four jobs per slot a re-run is
 * bound by round trips in parallel, while scans stay at scanConcurrency.
 */
export const JOBS_PER_SCAN_SLOT = 4;

export class JobProcessor {
  private readonly pools: ScanThreadPools;
  private readonly scanSlots: Limiter;
  /** Searches scan in slots of their own: a scan slot can be held for minutes by a big NAR. */
  private readonly searchSlots: Limiter;
  private readonly caches = new Map<string, BinaryCache>();
  /** A run's source, cache and digest never change: read once per run. */
  private readonly runs = new Map<number, Promise<RunDefinition>>();

  private readonly options: ProcessorOptions;
  private readonly releaseSpares: () => void;
  constructor(options: ProcessorOptions) {
    this.options = options;
    this.pools = new ScanThreadPools({ threads: options.threads, cacheOptions: options.cacheOptions, ...(options.decompress ? { decompress: options.decompress } : {}) });
    this.scanSlots = new Limiter(this.scanConcurrency);
    this.searchSlots = new Limiter(this.scanConcurrency);
    this.releaseSpares = retainSpareScanProcesses(options.spareSearchProcesses ?? 0);
  }

  get scanConcurrency(): number {
    return this.options.scanConcurrency ?? this.options.threads * 2;
  }

  /** Scans one store path once a slot is free; searches have slots of their own (their own threads, too). */
  private async scanWithSlot(pool: ScanThreadPool, urgent: boolean, storePath: string, narInfo?: NarInfo): Promise<PathResult> {
    const release = await (urgent ? this.searchSlots : this.scanSlots).acquire(urgent);
    try {
      return await pool.scan(storePath, narInfo);
    } finally {
      release();
    }
  }

  async process(job: ScanJob): Promise<void> {
    switch (job.kind) {
      case 'plan-run':
        return this.planRun(job.runId, job.epoch);
      case 'run-paths':
        return this.runPaths(job.runId, job.storePaths);
      case 'plan-search':
        return this.planSearch(job.searchId, job.epoch);
      case 'search-path':
        return this.searchPath(job.searchId, job.storePath);
    }
  }

  /**
   * A job failed for good (its retries used up, or an error no retry fixes). What it was to settle
   * is settled as failed with the reason, so its run or search still closes; best effort, since the
   * store may be what failed.
   */
  async giveUp(job: ScanJob, error: unknown, attempts: number): Promise<void> {
    const { db } = this.options;
    const why = `${error instanceof Error ? error.message : String(error)} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`;
    switch (job.kind) {
      case 'plan-run':
        return markRunFailed(db, job.runId, `planning failed: ${why}`);
      case 'run-paths':
        await failPendingRunPaths(db, job.runId, job.storePaths, why);
        await completeRunIfSettled(db, job.runId);
        return;
      case 'plan-search':
        return markSearchFailed(db, job.searchId);
      case 'search-path':
        return failPendingSearchPaths(db, job.searchId, [job.storePath], why);
    }
  }

  /** The most scan threads and processes this processor has had alive at once. */
  get scannerHighWater(): number {
    return this.pools.highWater;
  }

  /** Stops a search's scans at once (it was cancelled). */
  async dropSearch(searchId: number, cacheUrl: string): Promise<void> {
    await this.pools.drop(cacheUrl, `search-${searchId}`);
  }

  /** `force`: kill scans in flight instead of waiting for them (shutdown past its grace period). */
  async close(force = false): Promise<void> {
    this.releaseSpares();
    await this.pools.close(force);
    for (const c of this.caches.values()) await c.close();
  }

  private cache(url: string): BinaryCache {
    let c = this.caches.get(url);
    if (!c) {
      c = openBinaryCache(url, this.options.cacheOptions);
      this.caches.set(url, c);
    }
    return c;
  }

  private run(runId: number): Promise<RunDefinition> {
    let run = this.runs.get(runId);
    if (!run) {
      run = this.readRun(runId);
      run.catch(() => this.runs.delete(runId));
      this.runs.set(runId, run);
    }
    return run;
  }

  private async readRun(runId: number): Promise<RunDefinition> {
    const run = await runDefinition(this.options.db, runId);
    if (!run) throw new PermanentJobError(`run ${runId} does not exist`);
    if (run.digest !== this.options.signatures.digest) {
      throw new PermanentJobError(`run ${runId} uses signatures ${run.digest.slice(0, 12)}, this worker has ${this.options.signatures.digest.slice(0, 12)}: deploy the same signatures/ everywhere`);
    }
    return run;
  }

  /**
   * A cache that cannot be opened (no nix-cache-info, unreachable, refused) fails the run or search
   * at once with that reason: it must not look like a cache in which no path exists.
   */
  private async checkCache(url: string): Promise<void> {
    try {
      await this.cache(url).cacheInfo();
    } catch (err) {
      throw new PermanentJobError(`the binary cache ${redactUrl(url)} cannot be opened: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** `epoch`: a resumed or re-enqueued plan passes it on, so its jobs get new ids (BullMQ keeps old ones and would add none). */
  private async planRun(runId: number, epoch?: string): Promise<void> {
    const { db } = this.options;
    const run = await this.run(runId);
    await markRunStarted(db, runId);
    await this.checkCache(run.cacheUrl);
    if (run.source.kind === 'channel' && run.source.channel) {
      let batch: string[] = [];
      let total = 0;
      const flush = async (): Promise<void> => {
        const { registered } = await addRunPaths(db, runId, batch);
        total += registered.length;
        await this.options.enqueue(runBatches(registered).map((storePaths) => ({ kind: 'run-paths', runId, storePaths, ...(epoch ? { epoch } : {}) })));
        batch = [];
      };
      for await (const p of channelStorePaths(run.source.channel, this.options.channelsUrl, (revision) => setChannelRevision(db, runId, revision))) {
        batch.push(p);
        if (batch.length >= PLAN_BATCH) await flush();
      }
      await flush();
      await setRunTotal(db, runId, total);
    } else {
      // Path lists were registered when the run was created. In path order, so that a retried
      // plan makes the same batches, hence the same job ids, and BullMQ adds no job twice.
      const pending = await pendingRunPaths(db, runId);
      await this.options.enqueue(runBatches(pending).map((storePaths) => ({ kind: 'run-paths', runId, storePaths, ...(epoch ? { epoch } : {}) })));
    }
    await completeRunIfSettled(db, runId);
  }

  /**
   * A batch of a run's paths: narinfos and stored scans looked up for all at once, unchanged and
   * absent paths recorded in one statement, the rest scanned (each recorded as it finishes).
   */
  private async runPaths(runId: number, storePaths: string[]): Promise<void> {
    const { db, signatures } = this.options;
    const run = await this.run(runId);
    await markPathsAttempted(db, runId, storePaths);
    const { settled, toScan } = await prepareBatch(db, this.cache(run.cacheUrl), run.digest, storePaths);
    await recordSettledResults(db, runId, settled);
    for (const result of settled) this.options.onPathResult?.(result);
    const scans = await Promise.allSettled(
      toScan.map(async ({ storePath, narInfo }) => {
        const pool = await this.pools.get(run.cacheUrl, 'signatures', signatures.sources, true);
        const result = await this.scanWithSlot(pool, false, storePath, narInfo);
        await recordPathResult(db, runId, run.digest, result);
        this.options.onPathResult?.(result);
      }),
    );
    // Every scan has settled before the job fails: a retry never runs beside leftovers of this try.
    const failure = scans.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    await completeRunIfSettled(db, runId);
  }

  private async planSearch(searchId: number, epoch?: string): Promise<void> {
    const search = await searchProgress(this.options.db, searchId);
    if (!search) throw new PermanentJobError(`search ${searchId} does not exist`);
    await this.checkCache(search.cacheUrl);
    const paths = await pendingSearchPaths(this.options.db, searchId);
    await this.options.enqueue(paths.map((storePath) => ({ kind: 'search-path', searchId, storePath, ...(epoch ? { epoch } : {}) })));
  }

  private async searchPath(searchId: number, storePath: string): Promise<void> {
    const gate = await searchGate(this.options.db, searchId);
    if (!gate) throw new PermanentJobError(`search ${searchId} does not exist`);
    if (!gate.go) {
      // Cancelled or past its time budget: settle the path without scanning it.
      await failPendingSearchPaths(this.options.db, searchId, [storePath], gate.reason);
      return;
    }
    const search = await searchProgress(this.options.db, searchId);
    if (!search) throw new PermanentJobError(`search ${searchId} does not exist`);
    const rules: RuleSource[] =
      search.kind === 'needle' ? [needleRule(search.pattern, 1)] : search.kind === 'hex' ? [hexRule(search.pattern, 1)] : [{ origin: `search #${searchId}`, text: search.pattern }];
    const pool = await this.pools.get(search.cacheUrl, `search-${searchId}`, rules, false, this.options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS);
    const result = await this.scanWithSlot(pool, true, storePath);
    // Cancelled while it was scanning: the path was settled then; its scan was stopped, not failed.
    const after = await searchGate(this.options.db, searchId);
    if (after && !after.go && after.reason === CANCELLED && result.status === 'failed') return;
    await recordSearchResult(this.options.db, searchId, result);
    this.options.onPathResult?.(result);
  }
}
