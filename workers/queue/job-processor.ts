// What a worker does with each job kind. Used by BullMQ workers and by the in-process queue
// alike, so both behave the same. Every step is idempotent: a job retried after a crash redoes
// it without duplicating anything.
import type { Database } from '../../store/database.js';
import { addRunPaths, completeRunIfSettled, markRunStarted, recordPathResult, setRunTotal } from '../../store/runs.js';
import { pendingSearchPaths, recordSearchResult, searchProgress } from '../../store/searches.js';
import type { SignatureSet } from '../../signatures/loader.js';
import { openBinaryCache, type BinaryCache, type CacheOptions } from '../cache/binary-cache.js';
import { hexRule, needleRule, type RuleSource } from '../match/rule-source.js';
import { channelStorePaths } from '../sources/channel.js';
import { incrementalPrepare } from '../runs/incremental.js';
import type { PathResult } from '../scan/path-result.js';
import { PoolSet } from './pool-set.js';
import type { ScanJob } from './scan-queue.js';

export interface ProcessorOptions {
  db: Database;
  signatures: SignatureSet;
  threads: number;
  cacheOptions: CacheOptions;
  channelsUrl?: string;
  /** Adds jobs to the queue (BullMQ or in-process). */
  enqueue(jobs: ScanJob[]): Promise<void>;
  /** Counts for /metrics. */
  onPathResult?(result: PathResult): void;
}

/** An error no retry will fix (the job fails at once). */
export class PermanentJobError extends Error {}

const PLAN_BATCH = 500;

export class JobProcessor {
  private readonly pools: PoolSet;
  private readonly caches = new Map<string, BinaryCache>();
  /** A run's source, cache and digest never change: read once per run. */
  private readonly runs = new Map<number, Promise<{ source: { kind: string; channel?: string }; cacheUrl: string; digest: string }>>();

  constructor(private readonly options: ProcessorOptions) {
    this.pools = new PoolSet({ threads: options.threads, cacheOptions: options.cacheOptions });
  }

  async process(job: ScanJob): Promise<void> {
    switch (job.kind) {
      case 'plan-run':
        return this.planRun(job.runId);
      case 'run-path':
        return this.runPath(job.runId, job.storePath);
      case 'plan-search':
        return this.planSearch(job.searchId);
      case 'search-path':
        return this.searchPath(job.searchId, job.storePath);
    }
  }

  async close(): Promise<void> {
    await this.pools.close();
    for (const c of this.caches.values()) await c.close();
  }

  private cache(url: string): BinaryCache {
    let c = this.caches.get(url);
    if (!c) this.caches.set(url, (c = openBinaryCache(url, this.options.cacheOptions)));
    return c;
  }

  private run(runId: number): Promise<{ source: { kind: string; channel?: string }; cacheUrl: string; digest: string }> {
    let run = this.runs.get(runId);
    if (!run) {
      run = this.readRun(runId);
      run.catch(() => this.runs.delete(runId));
      this.runs.set(runId, run);
    }
    return run;
  }

  private async readRun(runId: number): Promise<{ source: { kind: string; channel?: string }; cacheUrl: string; digest: string }> {
    const { rows } = await this.options.db.query<{ source: unknown; cache_url: string; ruleset_digest: string }>('SELECT source, cache_url, ruleset_digest FROM runs WHERE id = $1', [runId]);
    const r = rows[0];
    if (!r) throw new PermanentJobError(`run ${runId} does not exist`);
    if (r.ruleset_digest !== this.options.signatures.digest) {
      throw new PermanentJobError(`run ${runId} uses signatures ${r.ruleset_digest.slice(0, 12)}, this worker has ${this.options.signatures.digest.slice(0, 12)}: deploy the same signatures/ everywhere`);
    }
    const source = (typeof r.source === 'string' ? JSON.parse(r.source) : r.source) as { kind: string; channel?: string };
    return { source, cacheUrl: r.cache_url, digest: r.ruleset_digest };
  }

  private async planRun(runId: number): Promise<void> {
    const { db } = this.options;
    const run = await this.run(runId);
    await markRunStarted(db, runId);
    if (run.source.kind === 'channel' && run.source.channel) {
      let batch: string[] = [];
      let total = 0;
      const flush = async (): Promise<void> => {
        const invalid = new Set(await addRunPaths(db, runId, batch));
        const valid = batch.filter((p) => !invalid.has(p));
        total += valid.length;
        await this.options.enqueue(valid.map((storePath) => ({ kind: 'run-path', runId, storePath })));
        batch = [];
      };
      for await (const p of channelStorePaths(run.source.channel, this.options.channelsUrl)) {
        batch.push(p);
        if (batch.length >= PLAN_BATCH) await flush();
      }
      await flush();
      await setRunTotal(db, runId, total);
    } else {
      // Path lists were registered when the run was created.
      const { rows } = await db.query<{ path: string }>("SELECT sp.path FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1 AND rp.status = 'pending'", [runId]);
      await this.options.enqueue(rows.map((r) => ({ kind: 'run-path', runId, storePath: r.path })));
    }
    await completeRunIfSettled(db, runId);
  }

  private async runPath(runId: number, storePath: string): Promise<void> {
    const { db, signatures } = this.options;
    const run = await this.run(runId);
    const prepared = await incrementalPrepare(db, this.cache(run.cacheUrl), run.digest, false)(storePath).catch(() => null);
    let result: PathResult;
    if (prepared && 'done' in prepared) result = prepared.done;
    else {
      const pool = await this.pools.get(run.cacheUrl, 'signatures', signatures.sources, true);
      result = await pool.scan(storePath, prepared?.narInfo);
    }
    await recordPathResult(db, runId, run.digest, result);
    this.options.onPathResult?.(result);
    await completeRunIfSettled(db, runId);
  }

  private async planSearch(searchId: number): Promise<void> {
    const paths = await pendingSearchPaths(this.options.db, searchId);
    await this.options.enqueue(paths.map((storePath) => ({ kind: 'search-path', searchId, storePath })));
  }

  private async searchPath(searchId: number, storePath: string): Promise<void> {
    const search = await searchProgress(this.options.db, searchId);
    if (!search) throw new PermanentJobError(`search ${searchId} does not exist`);
    const rules: RuleSource[] =
      search.kind === 'needle' ? [needleRule(search.pattern, 1)] : search.kind === 'hex' ? [hexRule(search.pattern, 1)] : [{ origin: `search #${searchId}`, text: search.pattern }];
    const pool = await this.pools.get(search.cacheUrl, `search-${searchId}`, rules, false);
    const result = await pool.scan(storePath);
    await recordSearchResult(this.options.db, searchId, result);
    this.options.onPathResult?.(result);
  }
}
