// What the services share: the results store, the signatures, and the queue — BullMQ on Redis
// when REDIS_URL is set, else an in-process queue whose jobs run right here (on PostgreSQL, this
// process then owns the runs and searches it queues, and beats: store/owners.ts).
import { availableParallelism } from 'node:os';
import type { Queue } from 'bullmq';
import type { Database } from '../store/database.ts';
import { openResultsStore } from '../store/migrate.ts';
import { startOwner } from '../store/owners.ts';
import { loadSignatures, type SignatureSet } from '../signatures/loader.ts';
import { JobProcessor, JOBS_PER_SCAN_SLOT } from '../workers/queue/job-processor.ts';
import { LocalQueue } from '../workers/queue/local-queue.ts';
import type { ScanJob } from '../workers/queue/scan-queue.ts';
import type { QueueCounts } from './api/metrics.ts';
import type { Config } from './config.ts';
import { loadDecisionContext, type DecisionContext } from './decisions/context.ts';

export interface Runtime {
  db: Database;
  signatures: SignatureSet;
  cacheUrl: string;
  /** Advisories, packages listing and triage file, from configuration only. */
  decisions: DecisionContext;
  enqueue(jobs: ScanJob[]): Promise<void>;
  queueCounts(): Promise<QueueCounts>;
  /** The in-process queue, when there is no Redis. */
  local: LocalQueue | null;
  bull: Queue<ScanJob> | null;
  /** Stops a cancelled search's scans in this process (with Redis, workers stop at their next path). */
  dropSearch(searchId: number, cacheUrl: string): Promise<void>;
  /** Searches' time budget (ms). */
  searchBudgetMs: number;
  /** `force`: do not wait for jobs in flight (shutdown past its grace period). */
  close(force?: boolean): Promise<void>;
}

export async function openRuntime(config: Config, options: { threads?: number; concurrency?: number } = {}): Promise<Runtime> {
  const signatures = loadSignatures(config.signaturesDir);
  const decisions = loadDecisionContext({ advisoriesDir: config.advisoriesDir, packagesFile: config.packagesFile, triageFile: config.triageFile });
  const db = await openResultsStore(config);
  const { cacheUrl, redisUrl } = config;
  if (redisUrl) {
    // BullMQ and ioredis (~300 ms to load) only when there is a Redis to talk to.
    const { enqueue, openScanQueue } = await import('../workers/queue/scan-queue.ts');
    const bull = openScanQueue(redisUrl, config.queuePrefix);
    return {
      db,
      signatures,
      cacheUrl,
      decisions,
      local: null,
      bull,
      dropSearch: async () => {},
      searchBudgetMs: config.searchBudgetMs,
      enqueue: (jobs) => enqueue(bull, jobs),
      queueCounts: async () => {
        const c = await bull.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
        return { waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), active: c['active'] ?? 0, delayed: c['delayed'] ?? 0, failed: c['failed'] ?? 0, completed: c['completed'] ?? 0 };
      },
      close: async () => {
        await bull.close();
        await db.close();
      },
    };
  }
  const threads = options.threads ?? availableParallelism();
  let local: LocalQueue | null = null;
  const processor = new JobProcessor({ db, signatures, threads, scanConcurrency: options.concurrency, cacheOptions: config.cacheOptions, decompress: config.decompress, channelsUrl: config.channelsUrl, fileTimeoutMs: config.fileTimeoutMs, spareSearchProcesses: 1, enqueue: (jobs) => local!.add(jobs) });
  local = new LocalQueue((job) => processor.process(job), { concurrency: processor.scanConcurrency * JOBS_PER_SCAN_SLOT, onGiveUp: (job, err, attempts) => processor.giveUp(job, err, attempts) });
  const q = local;
  // On a shared PostgreSQL, the runs and searches this queue holds are stamped with this process,
  // which beats; another process marks them interrupted if it dies (store/owners.ts).
  const owner = db.kind === 'postgres' ? await startOwner(db, { intervalMs: config.heartbeatMs, command: 'serve', onEvent: (m) => process.stderr.write(`vendorscan: ${m}\n`) }) : null;
  return {
    db,
    signatures,
    cacheUrl,
    decisions,
    local,
    bull: null,
    dropSearch: (searchId, url) => processor.dropSearch(searchId, url),
    searchBudgetMs: config.searchBudgetMs,
    enqueue: async (jobs) => {
      for (const job of jobs) {
        if (job.kind === 'plan-run') await owner?.claimRun(job.runId);
        else if (job.kind === 'plan-search') await owner?.claimSearch(job.searchId);
      }
      await q.add(jobs);
    },
    queueCounts: async () => ({ waiting: Math.max(0, q.size), active: 0, delayed: 0, failed: q.failures.length, completed: 0 }),
    close: async (force = false) => {
      if (force) await processor.close(true);
      await q.idle();
      await processor.close();
      await owner?.close();
      await db.close();
    },
  };
}
