// Distributed jobs on the real PostgreSQL and Redis: two `vendorscan worker` processes, one
// killed with SIGKILL mid-run, end with exactly the findings of a clean single-process scan; an
// emergency search queued behind a scan finishes first; the weekly schedule is never duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { startScheduler } from '../../services/scheduler/scheduler.ts';
import { addRunPaths, createRun, runProgress, setRunTotal } from '../../store/runs.ts';
import { createSearch, searchProgress } from '../../store/searches.ts';
import { loadSignatures } from '../../signatures/loader.ts';
import { runScan } from '../../scanner/scan.ts';
import { redisConnection } from '../../workers/queue/scan-queue.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { buildServiceCache, type ServiceCache } from '../helpers/service-cache.ts';
import { freshPostgres, POSTGRES_ADMIN_URL, runFindingKeys, type TestDatabase } from '../helpers/databases.ts';
import { loadConfig } from '../../services/config.ts';

const REDIS_URL = process.env['VENDORSCAN_TEST_REDIS'] ?? 'redis://127.0.0.1:6379';
const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'vendorscan.mjs');

let cache: ServiceCache;
let server: StaticServer;
let pg: TestDatabase;
const children: ChildProcess[] = [];

function env(prefix: string): Record<string, string> {
  // SIGKILL must hit the worker itself, not the wrapper that re-executes it with its V8 flags.
  return { ...pg.env, REDIS_URL, VENDORSCAN_CACHE: server.url, VENDORSCAN_QUEUE_PREFIX: prefix, VENDORSCAN_STALLED_MS: '1500', VENDORSCAN_NO_REEXEC: '1' };
}

interface WorkerProcess {
  child: ChildProcess;
  /** What the worker wrote to stderr, for the failure message when it died. */
  stderr(): string;
}

function startWorker(prefix: string, args: string[] = ['--threads', '1', '--concurrency', '2']): WorkerProcess {
  const child = spawn(process.execPath, [bin, 'worker', ...args], { env: { ...process.env, ...env(prefix) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  children.push(child);
  return { child, stderr: () => err };
}


/** Opens a runtime on its own queue prefix for a describe block, and clears the queue after. */
function queueRuntime(prefix: string, set: (r: Runtime) => void): void {
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    runtime = await openRuntime(loadConfig(env(prefix)));
    set(runtime);
  });
  afterAll(async () => {
    await runtime?.close();
    await obliterate(prefix);
  });
}

/** A run over every store path of the test cache, registered and ready to plan. */
async function pathsRun(runtime: Runtime, label: string): Promise<number> {
  const runId = await createRun(runtime.db, { source: { kind: 'paths', label }, cacheUrl: server.url, rulesetDigest: runtime.signatures.digest });
  await addRunPaths(runtime.db, runId, cache.storePaths);
  await setRunTotal(runtime.db, runId, cache.storePaths.length);
  return runId;
}

async function obliterate(prefix: string): Promise<void> {
  for (const name of ['vendorscan-scans', 'vendorscan-schedules']) {
    const q = new Queue(name, { connection: redisConnection(REDIS_URL), prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
}

beforeAll(async () => {
  cache = buildServiceCache(12);
  server = await serveDirectory(cache.dir);
  pg = await freshPostgres();
}, 180_000);
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server?.close();
  await pg?.drop();
});

describe('two workers, one killed mid-run', () => {
  const prefix = `vs-test-${process.pid}-kill`;
  let runtime: Runtime;
  queueRuntime(prefix, (r) => (runtime = r));

  it('loses nothing and duplicates nothing', async () => {
    // The reference: a clean scan in one process, no queue, no database.
    const reference = new Set<string>();
    await runScan({
      cacheUrl: server.url,
      cacheOptions: {},
      ruleSources: loadSignatures().sources,
      binaryOnly: true,
      matchOptions: {},
      decompress: {},
      paths: cache.storePaths,
      concurrency: 2,
      threads: 2,
      onResult: (r) => {
        for (const f of r.findings) reference.add(`${f.storePath}|${f.file}|${f.library}|${f.version}`);
      },
    });
    expect(reference.size).toBeGreaterThan(3);

    const runId = await pathsRun(runtime, 'kill test');
    const victim = startWorker(prefix);
    startWorker(prefix);
    await runtime.enqueue([{ kind: 'plan-run', runId }]);
    await waitFor('the first results', () => runProgress(runtime.db, runId), (p) => (p?.scanned ?? 0) >= 1);
    const atKill = await runProgress(runtime.db, runId);
    victim.child.kill('SIGKILL');
    expect(atKill?.pending).toBeGreaterThan(0); // killed mid-run, with work left
    const done = await waitFor('the run to complete', () => runProgress(runtime.db, runId), (p) => p?.state === 'completed');
    expect(done).toMatchObject({ total: cache.storePaths.length, scanned: cache.storePaths.length, failed: 0, pending: 0 });

    const stored = await runFindingKeys(runtime.db, runId);
    expect(stored.length).toBe(new Set(stored).size);
    expect(new Set(stored)).toEqual(reference);
    const counted = await runtime.db.query<{ n: string }>('SELECT count(*) AS n FROM run_paths WHERE run_id = $1', [runId]);
    expect(Number(counted.rows[0]?.n)).toBe(cache.storePaths.length);
  }, 240_000);
});

describe('Postgres and Redis connections dropped mid-run', () => {
  const prefix = `vs-test-${process.pid}-drop`;
  let runtime: Runtime;
  queueRuntime(prefix, (r) => (runtime = r));

  it('the worker retries and resumes; the run completes with every path', async () => {
    const dbName = new URL(pg.env['DATABASE_URL']!).pathname.slice(1);
    // Forget the scans the first test stored, so this run downloads and scans every path again.
    await runtime.db.exec('UPDATE run_paths SET nar_scan_id = NULL; DELETE FROM findings; DELETE FROM nar_scans;');
    const runId = await pathsRun(runtime, 'drop test');
    const worker = startWorker(prefix, ['--threads', '1', '--concurrency', '1']);
    await runtime.enqueue([{ kind: 'plan-run', runId }]);
    const safe = <T>(f: () => Promise<T>) => () => f().catch(() => null);
    const atDrop = await waitFor('the first results', safe(() => runProgress(runtime.db, runId)), (p) => (p?.scanned ?? 0) >= 1);
    expect(atDrop?.pending).toBeGreaterThan(0);
    // Drop every connection: Postgres backends of this database, and Redis's normal clients.
    const { default: pgLib } = await import('pg');
    const admin = new pgLib.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    await redis.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    redis.disconnect();
    // A worker that died of the dropped connections would leave the run pending forever.
    const progress = safe(() => runProgress(runtime.db, runId));
    const done = await waitFor('the run to complete', async () => {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited (${worker.child.exitCode}): ${worker.stderr()}`);
      return progress();
    }, (p) => p?.state === 'completed');
    expect(done).toMatchObject({ total: cache.storePaths.length, scanned: cache.storePaths.length, pending: 0, failed: 0 });
    expect(worker.child.exitCode).toBeNull();
  }, 240_000);
});

describe('priorities', () => {
  const prefix = `vs-test-${process.pid}-prio`;
  let runtime: Runtime;
  queueRuntime(prefix, (r) => (runtime = r));

  it('runs an emergency search submitted behind a queued scan first', async () => {
    // The scan must really scan: with its NARs stored by the tests above it would only link them.
    await runtime.db.exec('UPDATE run_paths SET nar_scan_id = NULL; DELETE FROM findings; DELETE FROM nar_scans;');
    const runId = await pathsRun(runtime, 'scheduled');
    await runtime.enqueue([{ kind: 'plan-run', runId }]);
    const searchId = await createSearch(runtime.db, { kind: 'needle', pattern: 'libpng version 1.6.39', scope: { paths: cache.storePaths }, cacheUrl: server.url });
    await runtime.enqueue([{ kind: 'plan-search', searchId }]);
    startWorker(prefix, ['--threads', '1', '--concurrency', '1']);
    const search = await waitFor('the search', () => searchProgress(runtime.db, searchId), (s) => s?.state === 'completed');
    const run = await waitFor('the scan', () => runProgress(runtime.db, runId), (p) => p?.state === 'completed');
    expect(search?.matches).toBeGreaterThan(0);
    expect(new Date(search!.finishedAt!).getTime()).toBeLessThan(new Date(run!.finishedAt!).getTime());
  }, 240_000);
});

describe('the weekly schedule', () => {
  const prefix = `vs-test-${process.pid}-sched`;
  afterAll(() => obliterate(prefix));

  it('is upserted, never duplicated, when the scheduler restarts', async () => {
    const runtime = await openRuntime(loadConfig(env(prefix)));
    const options = { connection: redisConnection(REDIS_URL), prefix, channels: ['nixos-unstable'], db: runtime.db, cacheUrl: server.url, rulesetDigest: runtime.signatures.digest, enqueue: runtime.enqueue };
    const first = await startScheduler({ ...options, cron: '0 3 * * 0' });
    await first.close();
    const second = await startScheduler({ ...options, cron: '0 4 * * 1' });
    const schedulers = await second.queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: 'channel-nixos-unstable', pattern: '0 4 * * 1' });
    await second.close();
    // Firing every second: a firing starts a channel run and plans it through the queue.
    const firing = await startScheduler({ ...options, cron: '* * * * * *' });
    const run = await waitFor(
      'a scheduled run',
      async () => (await runtime.db.query<{ id: string; source: { kind: string; channel?: string } }>("SELECT id, source FROM runs WHERE source->>'label' LIKE 'weekly%'")).rows[0],
      (r) => r !== undefined,
      30_000,
    );
    expect(run?.source).toMatchObject({ kind: 'channel', channel: 'nixos-unstable' });
    await firing.close();
    const third = await startScheduler({ ...options, channels: ['nixos-24.05'], cron: '0 4 * * 1' });
    expect((await third.queue.getJobSchedulers()).map((s) => s.key)).toEqual(['channel-nixos-24.05']);
    await third.close();
    await runtime.close();
  });
});
