// The BullMQ queue shared by every worker host. A run is planned by one job (read the source,
// register its paths, enqueue jobs of small batches of paths); each batch job links the unchanged
// paths at once and scans the others. Emergency searches are one job per path, at a higher
// priority than scheduled scans. Job ids are derived from (run or search, store paths), so
// re-planning never duplicates a job.
import { Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import { createHash } from 'node:crypto';

export const QUEUE_NAME = 'vendorscan-scans';

export const PRIORITY = { search: 1, plan: 5, scan: 10 } as const;

/** `epoch`: set by the reconciler when it enqueues lost work again, so the job ids are new. */
export type ScanJob =
  | { kind: 'plan-run'; runId: number; epoch?: string }
  | { kind: 'run-paths'; runId: number; storePaths: string[]; epoch?: string }
  | { kind: 'plan-search'; searchId: number; epoch?: string }
  | { kind: 'search-path'; searchId: number; storePath: string; epoch?: string };

/** Between attempts of a job: the project's one backoff (cache/retry.ts). */
export const JOB_BACKOFF = { baseDelayMs: 2000, maxDelayMs: 60_000 } as const;
export const JOB_ATTEMPTS = 5;

/** Searches first, then planning, then scans: one mapping for BullMQ and the in-process queue. */
export function jobPriority(job: ScanJob): number {
  return job.kind === 'plan-search' || job.kind === 'search-path' ? PRIORITY.search : job.kind === 'plan-run' ? PRIORITY.plan : PRIORITY.scan;
}

/**
 * ioredis options for a redis:// or rediss:// URL (user, password, db; TLS for rediss://). BullMQ
 * makes and closes its own connections from these, so no client outlives a queue or worker.
 */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`"${u.protocol}//" is not a Redis URL scheme (redis:// or rediss://)`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    // BullMQ workers block on Redis; they must retry forever rather than give up.
    maxRetriesPerRequest: null,
  };
}

export function jobId(job: ScanJob): string {
  const base = baseJobId(job);
  return job.epoch ? `${base}-${job.epoch}` : base;
}

function baseJobId(job: ScanJob): string {
  const owner = 'runId' in job ? job.runId : job.searchId;
  switch (job.kind) {
    case 'plan-run':
    case 'plan-search':
      return `${job.kind}-${owner}`;
    case 'run-paths':
      return `${job.kind}-${owner}-${digest(job.storePaths.join('\n'))}`;
    case 'search-path':
      return `${job.kind}-${owner}-${digest(job.storePath)}`;
  }
}

function digest(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 20);
}

export function openScanQueue(redisUrl: string, prefix = 'vendorscan'): Queue<ScanJob> {
  return new Queue<ScanJob>(QUEUE_NAME, {
    connection: redisConnection(redisUrl),
    prefix,
    defaultJobOptions: { attempts: JOB_ATTEMPTS, backoff: { type: 'vendorscan' }, removeOnComplete: 10_000, removeOnFail: 10_000 },
  });
}

export async function enqueue(queue: Queue<ScanJob>, jobs: ScanJob[]): Promise<void> {
  await queue.addBulk(
    jobs.map((data) => ({
      name: data.kind,
      data,
      opts: { jobId: jobId(data), priority: jobPriority(data) },
    })),
  );
}
