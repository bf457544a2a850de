// The service on one machine with no servers: embedded PGlite, jobs in-process, the Fastify API
// in front. A scan through the API over a real Nix cache served on 127.0.0.1, the queries, the
// emergency search, and every kind of bad request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { buildServiceCache, type ServiceCache } from '../helpers/service-cache.ts';
import { freshPGlite } from '../helpers/databases.ts';
import { addRunPaths, completeRunIfSettled, createRun, failPendingRunPaths, markRunStarted, setRunTotal } from '../../store/runs.ts';
import { loadConfig } from '../../services/config.ts';

const TOKEN = 'test-token-123';
let cache: ServiceCache;
let server: StaticServer;
let runtime: Runtime;
let app: FastifyInstance;
const auth = { authorization: `Bearer ${TOKEN}` };


beforeAll(async () => {
  cache = buildServiceCache(6);
  // The cache host also publishes a channel: nixos-test/store-paths.xz lists every store path.
  mkdirSync(path.join(cache.dir, 'nixos-test'), { recursive: true });
  writeFileSync(path.join(cache.dir, 'nixos-test', 'store-paths.xz'), execFileSync('xz', ['-c'], { input: `${cache.storePaths.join('\n')}\n` }));
  server = await serveDirectory(cache.dir);
  const pglite = await freshPGlite();
  await pglite.drop();
  runtime = await openRuntime(loadConfig({ ...pglite.env, VENDORSCAN_CACHE: server.url, VENDORSCAN_CHANNELS_URL: server.url }), { threads: 2 });
  app = await buildApi({ ...runtime, apiToken: TOKEN });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await runtime?.close();
  await server?.close();
});

const get = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};

describe('a scan through the API', () => {
  let runId: number;
  it('needs the bearer token to start', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: cache.storePaths } });
    expect(r.statusCode).toBe(401);
    const wrong = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: cache.storePaths }, headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
  });

  it('runs to completion with progress counters', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: cache.storePaths }, headers: auth });
    expect(r.statusCode).toBe(202);
    runId = (r.json() as { id: number }).id;
    const done = await waitFor('the run', () => get(`/v1/scans/${runId}`), (v) => v.body['state'] === 'completed');
    expect(done.body).toMatchObject({ total: cache.storePaths.length, scanned: cache.storePaths.length, skipped: 0, notInCache: 0, failed: 0 });
    expect(done.body['narBytes']).toBeGreaterThan(1_000_000);
    expect((await get('/v1/scans')).body['scans']).toEqual(expect.arrayContaining([expect.objectContaining({ id: runId, state: 'completed' })]));
  });

  it('answers who vendors libpng < 1.6.40, vendored copies only by default', async () => {
    const r = await get('/v1/vendors?library=libpng&version=%3C1.6.40');
    expect(r.status).toBe(200);
    const results = r.body['results'] as { storePath: string; version: string; vendored: boolean; file: string }[];
    expect(results.map((x) => x.storePath).sort()).toEqual([...cache.libpngCopies].sort());
    expect(results.every((x) => x.version === '1.6.39' && x.vendored && x.file === 'lib/libpng16.so.16')).toBe(true);
    // Every copy says which advisories it falls under (libpng 1.6.39 < 1.6.51) and its package version.
    for (const x of results as unknown as { advisories: string[]; packageVersion: string | null }[]) {
      expect(x.advisories).toEqual(['CVE-2025-64720', 'CVE-2025-65018']);
      expect(x.packageVersion).toMatch(/^1\.\d+$/);
    }
    const all = await get('/v1/vendors?library=libpng&vendored=any');
    expect((all.body['results'] as { storePath: string }[]).map((x) => x.storePath)).toContain(cache.libpngOwn);
    expect((await get('/v1/vendors?library=libpng&version=%3C1.6.39')).body['total']).toBe(0);
    const paged = await get('/v1/vendors?library=libpng&limit=1&offset=1');
    expect(paged.body).toMatchObject({ total: cache.libpngCopies.length, limit: 1, offset: 1 });
  });

  it('counts copies per library and version', async () => {
    const r = await get(`/v1/libraries?run=${runId}`);
    const libs = r.body['libraries'] as { library: string; version: string; copies: number; storePaths: number }[];
    expect(libs.find((l) => l.library === 'libpng')).toMatchObject({ version: '1.6.39', copies: cache.libpngCopies.length + 1, storePaths: cache.libpngCopies.length + 1 });
  });

  it('does not download an unchanged NAR again on the next run', async () => {
    const before = server.requests.filter((p) => p.includes('/nar/')).length;
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: cache.storePaths }, headers: auth });
    const id = (r.json() as { id: number }).id;
    const done = await waitFor('the second run', () => get(`/v1/scans/${id}`), (v) => v.body['state'] === 'completed');
    expect(done.body).toMatchObject({ skipped: cache.storePaths.length, scanned: 0 });
    expect(server.requests.filter((p) => p.includes('/nar/')).length).toBe(before);
    const again = await get(`/v1/vendors?library=libpng&version=%3C1.6.40&run=${id}`);
    expect(again.body['total']).toBe(cache.libpngCopies.length);
  });

  it('counts a store path given twice (once with blanks around it) once', async () => {
    const p = cache.storePaths[0]!;
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: [p, ` ${p} `] }, headers: auth });
    expect(r.statusCode).toBe(202);
    const id = (r.json() as { id: number }).id;
    const done = await waitFor('the run', () => get(`/v1/scans/${id}`), (v) => v.body['state'] === 'completed');
    expect(done.body).toMatchObject({ total: 1, skipped: 1, pending: 0 });
  });

  it('scans a channel: its store-paths.xz is read and planned into path jobs', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { channel: 'nixos-test' }, headers: auth });
    expect(r.statusCode).toBe(202);
    const id = (r.json() as { id: number }).id;
    const done = await waitFor('the channel run', () => get(`/v1/scans/${id}`), (v) => v.body['state'] === 'completed');
    expect(done.body).toMatchObject({ total: cache.storePaths.length, skipped: cache.storePaths.length, failed: 0, source: { kind: 'channel', channel: 'nixos-test' } });
    expect(server.requests).toContain('/nixos-test/store-paths.xz');
  });

  it('runs an emergency needle search and lists its matches', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/searches', payload: { needle: 'libpng version 1.6.39', run: String(runId) }, headers: auth });
    expect(r.statusCode).toBe(202);
    const id = (r.json() as { id: number }).id;
    const done = await waitFor('the search', () => get(`/v1/searches/${id}`), (v) => v.body['state'] === 'completed');
    const files = (done.body['results'] as { storePath: string; file: string }[]).map((m) => `${m.storePath.slice(44)}/${m.file}`);
    // Ad-hoc searches look in every file: the READMEs mention it too.
    expect(files.filter((f) => f.endsWith('share/doc/README'))).toHaveLength(cache.storePaths.length - 1);
    expect(files.filter((f) => f.endsWith('libpng16.so.16'))).toHaveLength(cache.libpngCopies.length + 1);
    expect(done.body['firstMatchAt']).not.toBeNull();
  });
});

describe('coverage in every answer', () => {
  it('returns the run it answered from, with its scope and counts', async () => {
    const r = await get('/v1/vendors?library=libpng');
    const run = r.body['run'] as Record<string, unknown>;
    expect(run).toMatchObject({ kind: 'library-scan', state: 'completed', failed: 0, pending: 0, complete: true, incomplete: null });
    expect(run['scope']).toMatchObject({ kind: expect.stringMatching(/^(paths|channel)$/) });
    expect(typeof run['rulesetDigest']).toBe('string');
    expect((run['scanned'] as number) + (run['reused'] as number)).toBe(run['total']);
    expect((await get('/v1/libraries')).body['run']).toMatchObject({ runId: run['runId'] });
  });

  it('answers a channel from its latest library scan, and 404s for a channel never scanned', async () => {
    const r = await get('/v1/vendors?library=libpng&channel=nixos-test');
    expect(r.status).toBe(200);
    expect(r.body['run']).toMatchObject({ scope: { kind: 'channel', channel: 'nixos-test' } });
    const never = await get('/v1/vendors?library=libpng&channel=nixos-never');
    expect(never).toMatchObject({ status: 404, body: { error: 'no completed library scan of channel nixos-never yet' } });
  });

  it('says "incomplete" in words when more than 1 % of the scope failed', async () => {
    const p = cache.storePaths[0]!;
    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'half broken' }, cacheUrl: server.url, rulesetDigest: runtime.signatures.digest });
    await markRunStarted(runtime.db, runId);
    await addRunPaths(runtime.db, runId, [p, '/nix/store/00000000000000000000000000000000-gone-1.0']);
    await setRunTotal(runtime.db, runId, 2);
    await runtime.enqueue([{ kind: 'run-paths', runId, storePaths: [p] }]);
    await waitFor('the scanned path', () => get(`/v1/scans/${runId}`), (v) => v.body['pending'] === 1);
    await failPendingRunPaths(runtime.db, runId, ['/nix/store/00000000000000000000000000000000-gone-1.0'], 'the NAR was corrupt');
    await completeRunIfSettled(runtime.db, runId);
    const r = await get(`/v1/vendors?library=libpng&vendored=any&run=${runId}`);
    expect(r.body['run']).toMatchObject({ complete: false, failed: 1, total: 2, incomplete: 'incomplete: 1 of 2 store paths (50.0 %) failed' });
  });

  it('never answers from a run in which nothing could be scanned', async () => {
    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'absent' }, cacheUrl: server.url, rulesetDigest: runtime.signatures.digest });
    await markRunStarted(runtime.db, runId);
    await addRunPaths(runtime.db, runId, ['/nix/store/00000000000000000000000000000000-gone-1.0']);
    await setRunTotal(runtime.db, runId, 1);
    await runtime.enqueue([{ kind: 'run-paths', runId, storePaths: ['/nix/store/00000000000000000000000000000000-gone-1.0'] }]);
    const done = await waitFor('the run', () => get(`/v1/scans/${runId}`), (v) => v.body['state'] !== 'running');
    expect(done.body).toMatchObject({ state: 'failed', error: 'no store path could be scanned: 0 failed, 1 not in the cache, of 1' });
    // The default answer is still the last good library scan; asking for the failed one is refused.
    expect(((await get('/v1/vendors?library=libpng')).body['run'] as { runId: number }).runId).not.toBe(runId);
    expect(await get(`/v1/vendors?library=libpng&run=${runId}`)).toMatchObject({ status: 400, body: { parameter: 'run', message: expect.stringMatching(/failed and answers nothing/) } });
  });
});

describe('a cache that cannot be opened', () => {
  it('is reported by /healthz, and a run started then fails at once with the reason', async () => {
    const dead = await serveDirectory(mkdtempSync(path.join(tmpdir(), 'vendorscan-not-a-cache-')));
    const deadRuntime = await openRuntime(loadConfig({ VENDORSCAN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vendorscan-dead-')), VENDORSCAN_CACHE: dead.url }), { threads: 1 });
    const deadApp = await buildApi({ ...deadRuntime, apiToken: TOKEN });
    try {
      const health = await deadApp.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ ok: false, cache: { reachable: false, error: expect.stringMatching(/nix-cache-info not found/) } });
      const r = await deadApp.inject({ method: 'POST', url: '/v1/scans', payload: { paths: cache.storePaths.slice(0, 2) }, headers: auth });
      const id = (r.json() as { id: number }).id;
      const done = await waitFor('the run', async () => (await deadApp.inject({ method: 'GET', url: `/v1/scans/${id}` })).json() as Record<string, unknown>, (b) => b['state'] === 'failed');
      expect(done['error']).toMatch(/the binary cache http:\/\/127\.0\.0\.1:\d+ cannot be opened: .*nix-cache-info not found/);
      expect(done).toMatchObject({ notInCache: 0 });
    } finally {
      await deadApp.close();
      await deadRuntime.close();
      await dead.close();
    }
  });
});

describe('a job that fails for good', () => {
  it('settles its paths as failed with the reason, so the run still closes', async () => {
    // A run made under other signatures: every worker refuses its jobs, and no retry helps.
    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'foreign' }, cacheUrl: server.url, rulesetDigest: 'f'.repeat(64) });
    await markRunStarted(runtime.db, runId);
    await addRunPaths(runtime.db, runId, cache.storePaths.slice(0, 3));
    await setRunTotal(runtime.db, runId, 3);
    await runtime.enqueue([{ kind: 'run-paths', runId, storePaths: cache.storePaths.slice(0, 3) }]);
    // No path could be scanned: the run closes as failed, so it can never answer "nobody vendors it".
    const done = await waitFor('the run', () => get(`/v1/scans/${runId}`), (v) => v.body['state'] === 'failed');
    expect(done.body).toMatchObject({ total: 3, failed: 3, pending: 0, error: 'no store path could be scanned: 3 failed, 0 not in the cache, of 3' });
    const failures = done.body['failures'] as { storePath: string; reason: string }[];
    expect(failures).toHaveLength(3);
    for (const f of failures) expect(f.reason).toMatch(/uses signatures ffffffffffff.*deploy the same signatures.*gave up after 1 attempt/);
  });

  it('marks a run failed when planning it fails for good', async () => {
    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'foreign' }, cacheUrl: server.url, rulesetDigest: 'e'.repeat(64) });
    await runtime.enqueue([{ kind: 'plan-run', runId }]);
    const done = await waitFor('the run', () => get(`/v1/scans/${runId}`), (v) => v.body['state'] === 'failed');
    expect(done.body['error']).toMatch(/^planning failed: run \d+ uses signatures eeeeeeeeeeee/);
  });
});

describe('bad requests', () => {
  it('names the parameter that was wrong', async () => {
    expect((await get('/v1/vendors?library=libwebp&version=%3C%3C1')).body).toMatchObject({ parameter: 'version' });
    expect((await get('/v1/vendors?library=libnope')).body).toMatchObject({ parameter: 'library', message: 'unknown library "libnope"' });
    // A library the signatures look for is known, even with no copy found yet.
    const cef = await get('/v1/vendors?library=cef');
    expect(cef).toMatchObject({ status: 200, body: { library: 'cef', total: 0, results: [] } });
    expect((await get('/v1/vendors?library=libpng&run=abc')).status).toBe(400);
    expect((await get('/v1/vendors?library=libpng&run=abc')).body).toMatchObject({ parameter: 'run' });
    expect((await get('/v1/vendors?library=libpng&run=99999')).body).toMatchObject({ parameter: 'run', message: 'run 99999 does not exist' });
    expect((await get('/v1/vendors')).body).toMatchObject({ parameter: 'library' });
    expect((await get('/v1/vendors?library=libpng&unknown=maybe')).body).toMatchObject({ parameter: 'unknown' });
  });
  it('reports a YARA rule that does not compile with line and column', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/searches', payload: { rule: 'rule x {\n  strings: $a = "x"\n  condition: $a and\n}', paths: [cache.libpngOwn] }, headers: auth });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ parameter: 'rule', line: 4, column: 1 });
  });
  it('rejects oversize rules and bodies, and requests that name a cache', async () => {
    const big = await app.inject({ method: 'POST', url: '/v1/searches', payload: { rule: 'x'.repeat(70_000), paths: [cache.libpngOwn] }, headers: auth });
    expect(big.statusCode).toBe(400);
    const huge = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: Array(60_000).fill(cache.libpngOwn) }, headers: auth });
    expect(huge.statusCode).toBe(413);
    const cacheField = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: [cache.libpngOwn], cache: 'http://evil' }, headers: auth });
    expect(cacheField.statusCode).toBe(400);
    const badPath = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: ['/etc/passwd'] }, headers: auth });
    expect(badPath.json()).toMatchObject({ parameter: 'paths' });
  });
});

describe('operations', () => {
  it('serves health, Prometheus metrics and OpenAPI docs', async () => {
    expect((await get('/healthz')).body).toMatchObject({ ok: true, database: 'pglite' });
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/^vendorscan_paths_total\{status="scanned"\} \d+$/m);
    expect(m.body).toMatch(/^vendorscan_nar_bytes_total [1-9]\d*$/m);
    expect(m.body).toMatch(/^vendorscan_runs\{state="completed"\} \d+$/m);
    const docs = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys((docs.json() as { paths: object }).paths)).toEqual(expect.arrayContaining(['/v1/vendors', '/v1/libraries', '/v1/scans', '/v1/searches']));
  });
});
