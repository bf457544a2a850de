// `npm run chaos`: fault drills against the real services. Two `vendorscan worker` processes scan
// real NARs (made by real Nix) from a cache behind a fault-injecting HTTP server, with a private
// Redis (port 6390) and a private PostgreSQL cluster (port 5440) that the drills restart — the
// machine's shared services are never touched. Each drill starts a run, injects its fault, waits
// for the run to complete, and checks: every path settled (0 lost), no finding twice (0
// duplicated), findings equal to a clean single-process scan. Prints one line per drill and a
// summary; exit 1 if any drill failed.
//
// CHAOS_ROUNDS: rounds of every drill (default 1: the CI run, about 2 minutes); CHAOS_PATHS: store
// paths per run (default 8).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';
import { addRunPaths, createRun, runProgress, setRunTotal } from '../../store/runs.ts';
import { referenceFindings } from '../helpers/reference-scan.ts';
import { buildServiceCache } from '../helpers/service-cache.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';
import { startPrivatePostgres } from '../helpers/private-postgres.ts';
import { waitFor } from '../helpers/wait.ts';

const ROUNDS = Number(process.env['CHAOS_ROUNDS'] ?? 1);
const PATHS = Number(process.env['CHAOS_PATHS'] ?? 8);
const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'vendorscan.mjs');
const log = (s: string): void => void process.stdout.write(`${s}\n`);

type Fault = 'ok' | '500' | 'reset' | 'stall';

/** The cache host: serves the cache folder; `plan` decides each NAR request's fate. */
function faultyCache(dir: string): { server: Server; url: Promise<string>; plan: (url: string, nth: number) => Fault; served: Record<Fault, number> } {
  const seen = new Map<string, number>();
  const served: Record<Fault, number> = { ok: 0, '500': 0, reset: 0, stall: 0 };
  const state = {
    plan: (_url: string, _nth: number): Fault => 'ok',
  };
  const server = createServer((req, res: ServerResponse) => {
    const url = decodeURIComponent(req.url ?? '/');
    const file = path.join(dir, path.normalize(url));
    const nth = (seen.get(url) ?? 0) + 1;
    seen.set(url, nth);
    const fault = url.startsWith('/nar/') ? state.plan(url, nth) : 'ok';
    served[fault]++;
    if (fault === '500') return void res.writeHead(500).end('injected');
    if (fault === 'reset') return void req.socket.destroy();
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-length': size });
    if (fault === 'stall') {
      // Half the body, then silence: the client's stall timer must fire and retry.
      const half = readFileSync(file).subarray(0, Math.floor(size / 2));
      res.write(half);
      return;
    }
    const stream = createReadStream(file);
    stream.pipe(res);
  });
  const url = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
  return {
    server,
    url,
    get plan() {
      return state.plan;
    },
    /** A new plan counts every NAR's requests from 1 again. */
    set plan(p) {
      seen.clear();
      state.plan = p;
    },
    served,
  };
}

interface Result {
  drill: string;
  faults: number;
  ok: boolean;
  why: string;
  seconds: number;
  paths: number;
}

async function main(): Promise<number> {
  log(`chaos: building a cache of ${PATHS} store paths with real Nix…`);
  const cache = buildServiceCache(PATHS);
  const host = faultyCache(cache.dir);
  const cacheUrl = await host.url;
  const redis = await startPrivateRedis(6390);
  const pg = startPrivatePostgres(5440);
  const prefix = `vs-chaos-${process.pid}`;
  const env = { ...process.env, DATABASE_URL: pg.url, REDIS_URL: redis.url, VENDORSCAN_CACHE: cacheUrl, VENDORSCAN_QUEUE_PREFIX: prefix, VENDORSCAN_STALLED_MS: '1500', VENDORSCAN_RECONCILE_MS: '500', VENDORSCAN_CACHE_TIMEOUT_MS: '1500', VENDORSCAN_SHUTDOWN_GRACE_MS: '0', VENDORSCAN_NO_REEXEC: '1' }; // SIGKILL must hit the worker itself, not a re-exec wrapper
  const runtime: Runtime = await openRuntime(loadConfig(env));
  const workers: ChildProcess[] = [];
  const startWorker = (): ChildProcess => {
    const w = spawn(process.execPath, [bin, 'worker', '--threads', '1', '--concurrency', '2'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    workers.push(w);
    return w;
  };
  const results: Result[] = [];
  const cleanup = async (): Promise<void> => {
    for (const w of workers) w.kill('SIGKILL');
    await runtime.close().catch(() => undefined);
    host.server.closeAllConnections();
    host.server.close();
    await redis.stop().catch(() => undefined);
    try {
      pg.stop();
    } catch {}
  };
  // Interrupted: the private servers and workers go too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  try {
    log('chaos: the reference, a clean scan in one process…');
    const reference = await referenceFindings(`file://${cache.dir}`, cache.storePaths);
    startWorker();
    startWorker();
    const safe = <T>(f: () => Promise<T>) => () => f().catch(() => null);

    /** `counted`: what the run's own fault counters must show for the faults injected (null: fine). */
    type Counters = { retries: number; reattempted: number };
    const drill = async (name: string, inject: (runId: number) => Promise<number>, counted?: (c: Counters, faults: number) => string | null): Promise<void> => {
      const started = Date.now();
      let faults = 0;
      let why = '';
      let counters: Counters = { retries: 0, reattempted: 0 };
      try {
        // Forget earlier scans: every drill downloads and scans every path again.
        await runtime.db.exec('UPDATE run_paths SET nar_scan_id = NULL; DELETE FROM findings; DELETE FROM nar_scans;');
        const runId = await createRun(runtime.db, { source: { kind: 'paths', label: name }, cacheUrl, rulesetDigest: runtime.signatures.digest });
        await addRunPaths(runtime.db, runId, cache.storePaths);
        await setRunTotal(runtime.db, runId, cache.storePaths.length);
        await runtime.enqueue([{ kind: 'plan-run', runId }]);
        faults = await inject(runId);
        const done = await waitFor(`run ${runId} (${name})`, safe(() => runProgress(runtime.db, runId)), (p) => p?.state === 'completed' || p?.state === 'failed', 150_000);
        const { rows } = await runtime.db.query<{ k: string }>(
          "SELECT sp.path || '|' || f.file || '|' || f.library || '|' || coalesce(f.version, 'null') AS k FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id WHERE rp.run_id = $1",
          [runId],
        );
        const stored = rows.map((r) => r.k);
        const lost = [...reference].filter((k) => !stored.includes(k)).length;
        const extra = stored.filter((k) => !reference.has(k)).length;
        const dup = stored.length - new Set(stored).size;
        if (done?.state !== 'completed') why = `run ended ${done?.state}`;
        else if (done.pending !== 0 || done.failed !== 0 || done.total !== cache.storePaths.length) why = `pending ${done.pending}, failed ${done.failed}, total ${done.total}`;
        else if (lost || extra || dup) why = `${lost} findings lost, ${extra} unexpected, ${dup} duplicated`;
        counters = { retries: done?.retries ?? 0, reattempted: done?.reattempted ?? 0 };
        if (!why && counted) why = counted(counters, faults) ?? '';
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
      host.plan = () => 'ok';
      const r = { drill: name, faults, ok: why === '', why, seconds: (Date.now() - started) / 1000, paths: cache.storePaths.length };
      results.push(r);
      const seen = `run counters: ${counters.retries} retries, ${counters.reattempted} paths taken up again`;
      log(`${r.ok ? 'survived' : 'FAILED  '} ${name}: ${faults} fault${faults === 1 ? '' : 's'} injected, ${r.paths} paths, ${r.seconds.toFixed(1)} s, ${seen}${r.ok ? ', findings equal to a clean scan, 0 lost, 0 duplicated' : `: ${why}`}`);
    };

    const firstSettled = (runId: number) => waitFor('a first settled path', safe(() => runProgress(runtime.db, runId)), (p) => (p?.scanned ?? 0) >= 1, 60_000);
    for (let round = 1; round <= ROUNDS; round++) {
      await drill('cache answers 500 twice per NAR, then recovers', async () => {
        const before = host.served['500'];
        host.plan = (_u, nth) => (nth <= 2 ? '500' : 'ok');
        await waitFor('500s', async () => host.served['500'] - before, (n) => n >= cache.storePaths.length, 60_000);
        return host.served['500'] - before;
      }, (c, n) => (c.retries >= n ? null : `the run counted ${c.retries} retries for ${n} injected 500s`));
      await drill('cache resets the connection once per NAR', async () => {
        const before = host.served.reset;
        host.plan = (_u, nth) => (nth === 1 ? 'reset' : 'ok');
        await waitFor('resets', async () => host.served.reset - before, (n) => n >= cache.storePaths.length, 60_000);
        return host.served.reset - before;
      }, (c, n) => (c.retries >= n ? null : `the run counted ${c.retries} retries for ${n} injected resets`));
      await drill('cache stalls mid-body once per NAR', async () => {
        const before = host.served.stall;
        host.plan = (_u, nth) => (nth === 1 ? 'stall' : 'ok');
        await waitFor('stalls', async () => host.served.stall - before, (n) => n >= cache.storePaths.length, 90_000);
        return host.served.stall - before;
      }, (c, n) => (c.retries >= n ? null : `the run counted ${c.retries} retries for ${n} injected stalls`));
      await drill('worker SIGKILL mid-NAR', async () => {
        // The first NAR asked for is held after half its body: a worker is then certainly mid-NAR
        // (polling for one in flight missed small NARs, which pass in a few milliseconds). Every
        // live worker is killed, so the one holding it is among them, and two fresh ones take over.
        const before = host.served.stall;
        let held = false;
        host.plan = () => {
          if (held) return 'ok';
          held = true;
          return 'stall';
        };
        await waitFor('a NAR held mid-body', async () => host.served.stall - before, (n) => n > 0, 60_000);
        const victims = workers.filter((w) => w.exitCode === null && w.signalCode === null);
        for (const w of victims) w.kill('SIGKILL');
        startWorker();
        startWorker();
        return victims.length;
      }, (c) => (c.reattempted >= 1 ? null : 'no path was counted as taken up again after its worker was killed'));
      await drill('Redis shutdown nosave and restart mid-run', async (runId) => {
        await firstSettled(runId);
        await redis.restart();
        return 1;
      });
      await drill('PostgreSQL restart mid-run', async (runId) => {
        await firstSettled(runId);
        pg.restart();
        return 1;
      });
    }
  } finally {
    await cleanup();
  }
  const survived = results.filter((r) => r.ok);
  const faults = survived.reduce((n, r) => n + r.faults, 0);
  log(`chaos: ${survived.length} of ${results.length} drills survived; ${faults} faults injected and survived; findings lost: ${results.every((r) => r.ok) ? 0 : 'see above'}`);
  return survived.length === results.length ? 0 : 1;
}

process.exitCode = await main();
