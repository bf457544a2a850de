// A BullMQ worker: any number of these, on any number of hosts, share the queue. A worker killed
// mid-job loses nothing: its lock expires, BullMQ hands the stalled job to another worker, and the
// job's writes are idempotent.
import { UnrecoverableError, Worker } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import { JOB_BACKOFF, QUEUE_NAME, type ScanJob } from './scan-queue.ts';
import { backoffDelay } from '../../cache/retry.ts';
import { PermanentJobError, type JobProcessor } from './job-processor.ts';

export interface BullWorkerOptions {
  connection: ConnectionOptions;
  prefix?: string;
  concurrency: number;
  /** How soon a dead worker's job is taken over (lock duration and stalled-check interval). */
  stalledMs?: number;
}

export function startBullWorker(processor: JobProcessor, options: BullWorkerOptions): Worker<ScanJob> {
  const stalledMs = options.stalledMs ?? 30_000;
  const worker = new Worker<ScanJob>(
    QUEUE_NAME,
    async (job) => {
      try {
        await processor.process(job.data);
      } catch (err) {
        if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix ?? 'vendorscan',
      concurrency: options.concurrency,
      lockDuration: stalledMs,
      stalledInterval: stalledMs,
      maxStalledCount: 3,
      // The project's one backoff, for jobs added with backoff type 'vendorscan'.
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade - 1, JOB_BACKOFF.baseDelayMs, JOB_BACKOFF.maxDelayMs) },
    },
  );
  // Connection errors are retried by ioredis; log them instead of crashing.
  worker.on('error', (err) => process.stderr.write(`worker: ${err.message}\n`));
  // The last attempt failed (or no retry can help): settle what the job was to settle.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    processor.giveUp(job.data, err, job.attemptsMade).catch((e: unknown) => process.stderr.write(`worker: could not record the failure of job ${job.id}: ${e instanceof Error ? e.message : String(e)}\n`));
  });
  return worker;
}
