// Issue 13, rows H1, H2, M4 and L3: rules pasted into the search form are data, not programs.
// Runaway rules are refused unless forced, and when forced every file is matched under a time
// limit (the file is reported timed out, the search goes on); include is refused; a search can be
// cancelled; only `Bearer` tokens, checked before the body is validated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { freshPGlite } from '../helpers/databases.ts';
import { loadConfig } from '../../services/config.ts';

const TOKEN = 'hostile-token-1';
const auth = { authorization: `Bearer ${TOKEN}` };
let server: StaticServer;
let runtime: Runtime;
let app: FastifyInstance;
let slowPath: string;
let plainPaths: string[];

const RUNAWAY = {
  loop: 'rule a { condition: for all i in (0..filesize) : (for all j in (0..filesize) : (uint8(i) != 256)) }',
  jump: 'rule b { strings: $a = { 41 [0-] 42 } condition: $a }',
  regex: 'rule c { strings: $a = /A[^B]{0,5000}B/ condition: $a }',
};

beforeAll(async () => {
  // 2 MB of "A": `{ 41 [0-] 42 }` would take hours over it; the small file holds the marker.
  slowPath = addToStore('runaway-bait-1.0', { 'big.bin': Buffer.alloc(2 * 1024 * 1024, 0x41), 'small.txt': 'xx hellomark xx\n' });
  plainPaths = [0, 1, 2].map((i) => addToStore(`plain-${i}-1.0`, { 'f.txt': `plain ${i} hellomark\n` }));
  server = await serveDirectory(makeBinaryCache([slowPath, ...plainPaths], 'xz'));
  const pglite = await freshPGlite();
  await pglite.drop();
  runtime = await openRuntime(loadConfig({ ...pglite.env, VENDORSCAN_CACHE: server.url, VENDORSCAN_FILE_TIMEOUT_MS: '500' }), { threads: 1 });
  app = await buildApi({ ...runtime, apiToken: TOKEN });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await runtime?.close(true);
  await server?.close();
});

const post = (payload: Record<string, unknown>, headers: Record<string, string> = auth) => app.inject({ method: 'POST', url: '/v1/searches', payload, headers });
const get = async (url: string) => (await app.inject({ method: 'GET', url, headers: auth })).json() as Record<string, unknown>;

describe('runaway rules (H1)', () => {
  it.each(Object.entries(RUNAWAY))('refuses the %s rule YARA-X flags as slow, with its warnings', async (_name, rule) => {
    const r = await post({ rule, paths: [slowPath] });
    expect(r.statusCode).toBe(400);
    const body = r.json() as { parameter: string; warnings: { code: string; line: number }[]; message: string };
    expect(body.parameter).toBe('rule');
    expect(body.message).toMatch(/slow/);
    expect(body.warnings.length).toBeGreaterThan(0);
    expect(body.warnings[0]?.code).toMatch(/slow_pattern|potentially_slow_loop/);
    expect(body.warnings[0]?.line).toBe(1);
  });

  it('refuses a slow hex pattern too', async () => {
    const r = await post({ hex: '{ 41 [0-] 42 }', paths: [slowPath] });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { parameter: string }).parameter).toBe('hex');
  });

  it('runs a forced slow rule: the file past the time limit is reported timed out, the other files and paths are matched', async () => {
    const rule = 'rule b { strings: $a = { 41 [0-] 42 } $m = "hellomark" condition: $a or $m }';
    const r = await post({ rule, paths: [slowPath, ...plainPaths], force: true });
    expect(r.statusCode).toBe(202);
    const started = r.json() as { id: number; warnings: { code: string }[] };
    expect(started.warnings.map((w) => w.code)).toContain('slow_pattern');
    const done = await waitFor('the forced search', () => get(`/v1/searches/${started.id}`), (v) => v['state'] === 'completed', 90_000);
    expect(done['pending']).toBe(0);
    const results = done['results'] as { storePath: string; file: string }[];
    // small.txt of the bait path and every plain path matched; big.bin did not finish.
    expect(results.map((m) => `${m.storePath}/${m.file}`).sort()).toEqual([`${slowPath}/small.txt`, ...plainPaths.map((p) => `${p}/f.txt`)].sort());
    expect(done['timedOut']).toBe(1);
    const paths = done['problems'] as { storePath: string; reason: string | null }[] | undefined;
    expect(paths?.find((p) => p.storePath === slowPath)?.reason).toMatch(/timed out: big\.bin/);
  }, 120_000);
});

describe('no file access from rules (H2)', () => {
  it.each(['/etc/passwd', '/dev/zero', '/nonexistent'])('refuses include "%s" without reading it', async (file) => {
    const r = await post({ rule: `include "${file}"\nrule d { strings: $a = "x" condition: $a }`, paths: [slowPath] });
    expect(r.statusCode).toBe(400);
    const body = r.json() as { message: string; line: number };
    expect(body.message).toMatch(/include statements not allowed/);
    expect(body.message).not.toMatch(/root:|not found|No such/);
    expect(body.line).toBe(1);
  });
});

describe('cancelling a search (H1)', () => {
  it('DELETE /v1/searches/:id stops it: nothing stays pending, its state says cancelled', async () => {
    const rule = 'rule b { strings: $a = { 41 [0-] 42 } condition: $a }';
    const r = await post({ rule, paths: [slowPath, ...plainPaths], force: true });
    const id = (r.json() as { id: number }).id;
    const noToken = await app.inject({ method: 'DELETE', url: `/v1/searches/${id}` });
    expect(noToken.statusCode).toBe(401);
    const del = await app.inject({ method: 'DELETE', url: `/v1/searches/${id}`, headers: auth });
    expect(del.statusCode).toBe(200);
    expect((del.json() as { cancelled: boolean }).cancelled).toBe(true);
    const after = await waitFor('the cancelled search', () => get(`/v1/searches/${id}`), (v) => v['pending'] === 0);
    expect(after['state']).toBe('cancelled');
    expect((await app.inject({ method: 'DELETE', url: '/v1/searches/999999', headers: auth })).statusCode).toBe(404);
  });
});

describe('auth (L3)', () => {
  it('accepts only `Bearer <token>`: a bare token is refused', async () => {
    const r = await post({ needle: 'hellomark', paths: [plainPaths[0]] }, { authorization: TOKEN });
    expect(r.statusCode).toBe(401);
  });
  it('checks the token before the body: an invalid body without a token is 401, not 400', async () => {
    const r = await post({ nonsense: 1 }, {});
    expect(r.statusCode).toBe(401);
    const scans = await app.inject({ method: 'POST', url: '/v1/scans', payload: { bogus: true } });
    expect(scans.statusCode).toBe(401);
  });
});

describe('credentials in the cache URL (M7)', () => {
  it('are never shown by the API', async () => {
    const secretApp = await buildApi({ ...runtime, cacheUrl: 'http://alice:hunter2@127.0.0.1:9/cache', apiToken: TOKEN });
    try {
      const r = await secretApp.inject({ method: 'POST', url: '/v1/scans', payload: { paths: [plainPaths[0]] }, headers: auth });
      expect(r.statusCode).toBe(202);
      expect(r.body).toMatch(/alice:\*\*\*@127\.0\.0\.1/);
      const list = await secretApp.inject({ method: 'GET', url: '/v1/scans' });
      expect(list.body).not.toMatch(/hunter2/);
      const s = await secretApp.inject({ method: 'POST', url: '/v1/searches', payload: { needle: 'x', paths: [plainPaths[0]] }, headers: auth });
      expect(s.body).not.toMatch(/hunter2/);
    } finally {
      await secretApp.close();
    }
  });
});

describe('exposure (issue 13 part 5)', () => {
  it('VENDORSCAN_READ_TOKEN closes reads; the write token opens them too; /healthz stays open', async () => {
    const closed = await buildApi({ ...runtime, apiToken: TOKEN, readToken: 'r3ad' });
    try {
      expect((await closed.inject({ method: 'GET', url: '/v1/scans' })).statusCode).toBe(401);
      expect((await closed.inject({ method: 'GET', url: '/v1/scans', headers: { authorization: 'r3ad' } })).statusCode).toBe(401);
      expect((await closed.inject({ method: 'GET', url: '/v1/scans', headers: { authorization: 'Bearer r3ad' } })).statusCode).toBe(200);
      expect((await closed.inject({ method: 'GET', url: '/v1/scans', headers: auth })).statusCode).toBe(200);
      expect((await closed.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await closed.close();
    }
  });

  it('shows a search pattern only with the write token', async () => {
    const r = await post({ needle: 'secret-needle-1', paths: [plainPaths[0]] });
    const id = (r.json() as { id: number }).id;
    expect((await app.inject({ method: 'GET', url: `/v1/searches/${id}` })).json()).toMatchObject({ id, pattern: null });
    expect((await app.inject({ method: 'GET', url: `/v1/searches/${id}`, headers: auth })).json()).toMatchObject({ id, pattern: 'secret-needle-1' });
  });
});

describe('bad numbers and NUL bytes (L2)', () => {
  it.each([
    ['/v1/vendors?library=libwebp&offset=1e20', 'offset'],
    ['/v1/vendors?library=libwebp&limit=99999999999999999999', 'limit'],
    ['/v1/vendors?library=%00', 'library'],
    ['/v1/vendors?library=libwebp&version=%3C1.3%002', 'version'],
    ['/v1/scans/1?x=%00', 'x'],
  ])('%s → 400 naming %s', async (url, parameter) => {
    const r = await app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { parameter: string }).parameter).toBe(parameter);
  });
  it('a NUL in a search body is a 400 naming the field', async () => {
    const r = await post({ needle: 'a\u0000b', paths: [plainPaths[0]] });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ parameter: 'needle' });
    const p = await post({ needle: 'ab', paths: ['/nix/store/\u0000'] });
    expect(p.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ parameter: 'needle' });
    expect((p.json() as { parameter: string }).parameter).toBe('paths[0]');
  });
});

describe('/v1/vendors under load (M9): a cheap total', () => {
  it('counts a completed run once per query, then reads the total back', async () => {
    await runtime.db.exec(`
      INSERT INTO runs (source, cache_url, ruleset_digest, state, finished_at) VALUES ('{"kind":"paths","label":"m9"}', 'file:///m9', 'm9', 'completed', now());
      INSERT INTO store_paths (path, hash, pname, version)
        SELECT '/nix/store/' || lpad(i::text, 32, 'm') || '-m9pkg' || i || '-1.0', lpad(i::text, 32, 'm'), 'm9pkg' || i, '1.0' FROM generate_series(1, 300) i;
      INSERT INTO nar_scans (nar_hash, ruleset_digest, nar_size, files) SELECT 'sha256:m9-' || i, 'm9', 1, 1 FROM generate_series(1, 300) i;
    `);
    const run = Number((await runtime.db.query<{ id: string }>("SELECT id FROM runs WHERE ruleset_digest = 'm9'")).rows[0]?.id);
    await runtime.db.exec(`
      INSERT INTO run_paths (run_id, store_path_id, status, nar_scan_id)
        SELECT ${run}, sp.id, 'scanned', ns.id FROM store_paths sp JOIN nar_scans ns ON ns.nar_hash = 'sha256:m9-' || substring(sp.pname from 6) WHERE sp.pname LIKE 'm9pkg%';
      INSERT INTO findings (nar_scan_id, file, library, version, version_key, rule, confidence, evidence, matches)
        SELECT ns.id, 'lib/f' || g, 'libwebp', '1.' || (g % 4), '0000000001.' || lpad((g % 4)::text, 10, '0') || ',', 'r' || (g % 2), 'high', 'e', '[]'
        FROM nar_scans ns, generate_series(1, 3) g WHERE ns.ruleset_digest = 'm9';
    `);
    const url = `/v1/vendors?library=libwebp&version=%3C1.3&run=${run}&limit=50`;
    const first = await get(url);
    expect(first).toMatchObject({ total: 600, totalExact: true, totalSource: 'counted' });
    expect((await get(url))['totalSource']).toBe('cached');
  });
});
