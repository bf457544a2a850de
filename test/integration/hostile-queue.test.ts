// Issue 13, M1: Redis shut down without saving and started again mid-run forgets every job; the
// reconciler finds the pending paths in the store and enqueues them again, and the run completes
// with the findings of a clean scan, nothing lost, nothing twice. A private Redis on port 6390
// (the shared one on 6379 is never restarted); real PostgreSQL; real NARs from real Nix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';
import { addRunPaths, createRun, runProgress, setRunTotal } from '../../store/runs.ts';
import { referenceFindings } from '../helpers/reference-scan.ts';
import { JobProcessor } from '../../workers/queue/job-processor.ts';
import { startBullWorker } from '../../workers/queue/bullmq-worker.ts';
import { startReconciler, type Reconciler } from '../../workers/queue/reconciler.ts';
import { redisConnection } from '../../workers/queue/scan-queue.ts';
import { buildServiceCache, type ServiceCache } from '../helpers/service-cache.ts';
import { freshPostgres, runFindingKeys, type TestDatabase } from '../helpers/databases.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.ts';
import { waitFor } from '../helpers/wait.ts';

let cache: ServiceCache;
let pg: TestDatabase;
let redis: PrivateRedis;
let runtime: Runtime;
let server: Server;
let base: string;
const requests: string[] = [];
let stalledNar = '';
let release: (() => void) | null = null;
const held = new Promise<void>((r) => (release = r));

beforeAll(async () => {
  cache = buildServiceCache(6);
  pg = await freshPostgres();
  redis = await startPrivateRedis(6390);
  // Jobs go out in path order, one at a time: while the first is held, the others wait in Redis.
  const first = [...cache.storePaths].sort()[0]!;
  stalledNar = `/${/^URL: (.*)$/m.exec(readFileSync(path.join(cache.dir, `${path.basename(first).slice(0, 32)}.narinfo`), 'utf8'))?.[1]}`;
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const send = (): void => void createReadStream(path.join(cache.dir, decodeURIComponent(url))).on('error', () => res.writeHead(404).end()).pipe(res);
    // The first path's NAR is held until Redis has been restarted: the run cannot finish before.
    if (url === stalledNar) void held.then(send);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  runtime = await openRuntime(loadConfig({ ...pg.env, REDIS_URL: redis.url, VENDORSCAN_QUEUE_PREFIX: `vs-hostile-${process.pid}` }));
}, 180_000);
afterAll(async () => {
  release?.();
  await runtime?.close();
  await redis?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await pg?.drop();
});

describe('Redis restarted without saving, mid-run (M1)', () => {
  it('the reconciler enqueues the lost jobs again; the run completes with the findings of a clean scan', async () => {
    const reference = await referenceFindings(`file://${cache.dir}`, cache.storePaths);
    expect(reference.size).toBeGreaterThan(1);

    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'redis restart' }, cacheUrl: base, rulesetDigest: runtime.signatures.digest });
    await addRunPaths(runtime.db, runId, cache.storePaths);
    await setRunTotal(runtime.db, runId, cache.storePaths.length);
    const processor = new JobProcessor({ db: runtime.db, signatures: runtime.signatures, threads: 1, scanConcurrency: 1, cacheOptions: {}, channelsUrl: base, enqueue: (jobs) => runtime.enqueue(jobs) });
    const worker = startBullWorker(processor, { connection: redisConnection(redis.url), prefix: `vs-hostile-${process.pid}`, concurrency: 1, stalledMs: 1000 });
    let reconciler: Reconciler | null = null;
    try {
      await runtime.enqueue([{ kind: 'plan-run', runId }]);
      await waitFor('the held NAR to be asked for', async () => requests.includes(stalledNar), (v) => v);
      const before = await runtime.queueCounts();
      expect(before.waiting).toBeGreaterThan(0); // jobs that Redis is about to lose
      await redis.restart();
      const afterRestart = await runtime.queueCounts().catch(() => null);
      expect(afterRestart === null || afterRestart.waiting + afterRestart.active + afterRestart.delayed === 0).toBe(true);
      release?.();
      reconciler = startReconciler({
        db: runtime.db,
        queued: async () => {
          const c = await runtime.queueCounts();
          return c.waiting + c.active + c.delayed;
        },
        enqueue: (jobs) => runtime.enqueue(jobs),
        intervalMs: 300,
      });
      const safe = () => runProgress(runtime.db, runId).catch(() => null);
      const done = await waitFor('the run to complete after the Redis restart', safe, (p) => p?.state === 'completed', 150_000);
      expect(done).toMatchObject({ total: cache.storePaths.length, failed: 0, pending: 0 });
      const stored = await runFindingKeys(runtime.db, runId);
      expect(stored.length).toBe(new Set(stored).size);
      expect(new Set(stored)).toEqual(reference);
    } finally {
      reconciler?.stop();
      await worker.close(true);
      await processor.close(true);
    }
  }, 240_000);
});
