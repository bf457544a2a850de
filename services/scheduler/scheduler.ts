// Weekly channel scans: one BullMQ job scheduler per configured channel, upserted by id, so a
// restarted scheduler replaces its schedule instead of adding another. Each firing starts a run.
import { Worker, Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import type { Database } from '../../store/database.ts';
import { createRun } from '../../store/runs.ts';
import type { ScanJob } from '../../workers/queue/scan-queue.ts';

export const SCHEDULE_QUEUE = 'vendorscan-schedules';

export interface SchedulerOptions {
  connection: ConnectionOptions;
  prefix?: string;
  channels: string[];
  cron: string;
  db: Database;
  cacheUrl: string;
  rulesetDigest: string;
  enqueue(jobs: ScanJob[]): Promise<void>;
}

export interface RunningScheduler {
  queue: Queue<{ channel: string }>;
  worker: Worker<{ channel: string }>;
  close(): Promise<void>;
}

export async function startScheduler(o: SchedulerOptions): Promise<RunningScheduler> {
  const prefix = o.prefix ?? 'vendorscan';
  const queue = new Queue<{ channel: string }>(SCHEDULE_QUEUE, { connection: o.connection, prefix });
  for (const channel of o.channels) {
    await queue.upsertJobScheduler(`channel-${channel}`, { pattern: o.cron, tz: 'UTC' }, { name: 'channel-scan', data: { channel } });
  }
  // Schedulers for channels no longer configured are removed.
  for (const s of await queue.getJobSchedulers()) {
    if (s.key.startsWith('channel-') && !o.channels.includes(s.key.slice('channel-'.length))) await queue.removeJobScheduler(s.key);
  }
  const worker = new Worker<{ channel: string }>(
    SCHEDULE_QUEUE,
    async (job) => {
      const runId = await createRun(o.db, { source: { kind: 'channel', channel: job.data.channel, label: `weekly channel ${job.data.channel}` }, cacheUrl: o.cacheUrl, rulesetDigest: o.rulesetDigest });
      await o.enqueue([{ kind: 'plan-run', runId }]);
      return { runId };
    },
    { connection: o.connection, prefix, concurrency: 1 },
  );
  worker.on('error', (err) => process.stderr.write(`scheduler: ${err.message}\n`));
  return {
    queue,
    worker,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
