// `vendorscan serve`, `vendorscan worker`, `vendorscan scheduler`: the long-running processes.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { buildApi } from '../services/api/app.ts';
import { openRuntime } from '../services/runtime.ts';
import { startScheduler, DEFAULT_CRON } from '../services/scheduler/scheduler.ts';
import { JobProcessor, JOBS_PER_SCAN_SLOT } from '../workers/queue/job-processor.ts';
import { startBullWorker } from '../workers/queue/bullmq-worker.ts';
import { enqueue, redisConnection } from '../workers/queue/scan-queue.ts';
import { UsageError } from './usage-error.ts';
import { describeStore } from './open-store.ts';

interface IO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number ≥ 1, got "${value}"`);
  return n;
}

function args(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export const serveUsage = `Usage: vendorscan serve [--port N] [--host H]
  HTTP API on port 8080 (env PORT). OpenAPI at /docs. Writes need VENDORSCAN_API_TOKEN.
  Without REDIS_URL, scans and searches run inside this process.
`;

export async function serveCommand(argv: string[], io: IO): Promise<number> {
  const v = args(argv, { port: { type: 'string' }, host: { type: 'string' } });
  const port = wholeNumber('port', (v['port'] as string | undefined) ?? io.env['PORT'], 8080);
  const host = (v['host'] as string | undefined) ?? io.env['HOST'] ?? '127.0.0.1';
  const runtime = await openRuntime(io.env);
  const app = await buildApi({ ...runtime, apiToken: io.env['VENDORSCAN_API_TOKEN'] || null });
  await app.listen({ port, host });
  io.stderr.write(`vendorscan API on http://${host}:${port} (docs at /docs), results in ${describeStore(io.env)}, ${runtime.bull ? 'jobs on Redis' : 'jobs in this process'}\n`);
  await untilSignal();
  await app.close();
  await runtime.close();
  return 0;
}

export async function workerCommand(argv: string[], io: IO): Promise<number> {
  const v = args(argv, { concurrency: { type: 'string' }, threads: { type: 'string' } });
  const redisUrl = io.env['REDIS_URL'];
  if (!redisUrl) throw new UsageError('vendorscan worker needs REDIS_URL (without it, `vendorscan serve` runs jobs itself)');
  const threads = wholeNumber('threads', v['threads'] as string | undefined, availableParallelism());
  const concurrency = wholeNumber('concurrency', v['concurrency'] as string | undefined, threads * 2);
  const runtime = await openRuntime(io.env);
  const processor = new JobProcessor({
    db: runtime.db,
    signatures: runtime.signatures,
    threads,
    scanConcurrency: concurrency,
    cacheOptions: {},
    channelsUrl: io.env['VENDORSCAN_CHANNELS_URL'],
    enqueue: (jobs) => runtime.enqueue(jobs),
  });
  const stalledMs = io.env['VENDORSCAN_STALLED_MS'] ? Number(io.env['VENDORSCAN_STALLED_MS']) : undefined;
  const jobs = concurrency * JOBS_PER_SCAN_SLOT;
  const worker = startBullWorker(processor, { connection: redisConnection(redisUrl), prefix: io.env['VENDORSCAN_QUEUE_PREFIX'] ?? 'vendorscan', concurrency: jobs, ...(stalledMs ? { stalledMs } : {}) });
  io.stderr.write(`vendorscan worker: ${concurrency} store paths scanned at once on ${threads} scan threads, ${jobs} jobs at once\n`);
  await untilSignal();
  await worker.close();
  await processor.close();
  await runtime.close();
  return 0;
}

export async function schedulerCommand(argv: string[], io: IO): Promise<number> {
  const v = args(argv, { cron: { type: 'string' }, channel: { type: 'string' } });
  const redisUrl = io.env['REDIS_URL'];
  if (!redisUrl) throw new UsageError('vendorscan scheduler needs REDIS_URL');
  const channels = ((v['channel'] as string | undefined) ?? io.env['VENDORSCAN_CHANNELS'] ?? 'nixos-unstable').split(',').map((c) => c.trim()).filter((c) => c !== '');
  const cron = (v['cron'] as string | undefined) ?? io.env['VENDORSCAN_CRON'] ?? DEFAULT_CRON;
  const runtime = await openRuntime(io.env);
  const scheduler = await startScheduler({
    connection: redisConnection(redisUrl),
    prefix: io.env['VENDORSCAN_QUEUE_PREFIX'] ?? 'vendorscan',
    channels,
    cron,
    db: runtime.db,
    cacheUrl: runtime.cacheUrl,
    rulesetDigest: runtime.signatures.digest,
    enqueue: (jobs) => (runtime.bull ? enqueue(runtime.bull, jobs) : runtime.enqueue(jobs)),
  });
  io.stderr.write(`vendorscan scheduler: ${channels.join(', ')} on "${cron}" (UTC)\n`);
  await untilSignal();
  await scheduler.close();
  await runtime.close();
  return 0;
}
