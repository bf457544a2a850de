// `vendorscan worker`: a BullMQ worker. Any number of them, on any number of hosts, share the queue.
import { availableParallelism } from 'node:os';
import { openRuntime } from '../services/runtime.ts';
import { loadConfig } from '../services/config.ts';
import { JobProcessor, JOBS_PER_SCAN_SLOT } from '../workers/queue/job-processor.ts';
import { startBullWorker } from '../workers/queue/bullmq-worker.ts';
import { startReconciler } from '../workers/queue/reconciler.ts';
import { redisConnection } from '../workers/queue/scan-queue.ts';
import { UsageError } from './usage-error.ts';
import { closeOnSignal, parseFlags, positiveInt, type Command } from './flags.ts';

const usage = `Usage: vendorscan worker [--concurrency N] [--threads N]

  Takes jobs from the queue on REDIS_URL and writes results to DATABASE_URL.

  --threads N        scan threads (default: cores)
  --concurrency N    store paths scanned at once (default: 2 × threads); the worker runs
                     ${JOBS_PER_SCAN_SLOT} × N jobs at once, since a job that only links unchanged NARs needs no scan slot
`;

export const command: Command = {
  usage,
  async run(argv, io) {
    const v = parseFlags(argv, { concurrency: { type: 'string' }, threads: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) {
      io.stdout.write(usage);
      return 0;
    }
    const config = loadConfig(io.env);
    if (!config.redisUrl) throw new UsageError('vendorscan worker needs REDIS_URL (without it, `vendorscan serve` runs jobs itself)');
    const threads = positiveInt('threads', v.threads, availableParallelism());
    const concurrency = positiveInt('concurrency', v.concurrency, threads * 2);
    const runtime = await openRuntime(config);
    const processor = new JobProcessor({
      db: runtime.db,
      signatures: runtime.signatures,
      threads,
      scanConcurrency: concurrency,
      cacheOptions: config.cacheOptions,
      decompress: config.decompress,
      channelsUrl: config.channelsUrl,
      fileTimeoutMs: config.fileTimeoutMs,
      spareSearchProcesses: 1,
      enqueue: (jobs) => runtime.enqueue(jobs),
    });
    const jobs = concurrency * JOBS_PER_SCAN_SLOT;
    const worker = startBullWorker(processor, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix, concurrency: jobs, stalledMs: config.stalledMs });
    // Jobs lost with Redis (a restart without persistence) are enqueued again from the store.
    const reconciler = startReconciler({
      db: runtime.db,
      queued: async () => {
        const c = await runtime.queueCounts();
        return c.waiting + c.active + c.delayed;
      },
      enqueue: (jobs) => runtime.enqueue(jobs),
      intervalMs: config.reconcileMs,
      onRepair: (n) => io.stderr.write(`vendorscan worker: the queue had lost jobs of pending runs or searches; ${n} enqueued again\n`),
    });
    io.stderr.write(`vendorscan worker: ${concurrency} store paths scanned at once on ${threads} scan threads, ${jobs} jobs at once\n`);
    await closeOnSignal(io, 'worker', config.shutdownGraceMs, async () => {
      reconciler.stop();
      await worker.close();
      await processor.close();
      await runtime.close();
    });
    return 0;
  },
};
