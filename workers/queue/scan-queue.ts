// The BullMQ queue shared by every worker host. A run is planned by one job (read the source,
// register its paths, enqueue jobs of small batches of paths); each batch job links the unchanged
// paths at once and scans the others. Emergency searches are one job per path, at a higher
// priority than scheduled scans. Job ids are derived from (run or search, store paths), so
// re-planning never duplicates a job.
import { Queue, type ConnectionOptions } from 'bullmq';
import { createHash } from 'node:crypto';

export const QUEUE_NAME = 'vendorscan-scans';

export const PRIORITY = { search: 1, plan: 5, scan: 10 } as const;

export type ScanJob =
  | { kind: 'plan-run'; runId: number }
  | { kind: 'run-paths'; runId: number; storePaths: string[] }
  | { kind: 'plan-search'; searchId: number }
  | { kind: 'search-path'; searchId: number; storePath: string };

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    // BullMQ workers block on Redis; they must retry forever rather than give up.
    maxRetriesPerRequest: null,
  };
}

export function jobId(job: ScanJob): string {
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
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 10_000, removeOnFail: 10_000 },
  });
}

export async function enqueue(queue: Queue<ScanJob>, jobs: ScanJob[]): Promise<void> {
  await queue.addBulk(
    jobs.map((data) => ({
      name: data.kind,
      data,
      opts: { jobId: jobId(data), priority: data.kind.includes('search') ? PRIORITY.search : data.kind.startsWith('plan') ? PRIORITY.plan : PRIORITY.scan },
    })),
  );
}
