// Keyset pages of the vendors query (issue 13 item 6): walking every page with `after` gives exactly
// the rows of one big OFFSET-0 read, in the same order, for every sort and direction, on real
// PostgreSQL. The store is generated (fixed seed unless FC_SEED=random) to hold what breaks a seek
// predicate: unknown versions (NULLS FIRST going up, LAST going down), equal versions, pnames
// shared by several store paths, one file under several rules, names that differ only in case or
// punctuation (the database collation orders them), and every confidence and linkage. Then the API:
// `next`, `after` with `offset`, and cursors that were tampered with or made for another sort.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../services/api/app.ts';
import { loadConfig } from '../../services/config.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { parseVersionRange } from '../../signatures/version.ts';
import { migrate } from '../../store/migrate.ts';
import { parseVendorsCursor, VENDOR_SORTS, vendors, type VendorsQuery } from '../../store/queries.ts';
import { addRunPaths, completeRunIfSettled, createRun, markRunStarted, recordPathResult, setRunTotal } from '../../store/runs.ts';
import type { FileFinding } from '../../scanner/path-result.ts';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';

if (process.env['FC_SEED'] !== 'random') fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261126) });

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
const PNAMES = ['app', 'App', 'app-x', 'app_x', 'libwebp', 'viewer'];
const FILES = ['lib/a.so', 'lib/A.so', 'lib/a-b.so', 'lib/ab.so', 'lib/a b.so', 'bin/x', 'lib/é.so'];
const RULES = ['libwebp_a', 'libwebp_B', 'libwebp_b'];
const VERSIONS = ['1.2.4', '1.3.2', '1.3.2', '0.9', '1.10.0', null, null];

const finding = fc.record({
  file: fc.constantFrom(...FILES),
  rule: fc.constantFrom(...RULES),
  version: fc.constantFrom(...VERSIONS),
  confidence: fc.constantFrom('high', 'medium', 'low'),
  linkage: fc.constantFrom('copy', 'unknown', 'unknown', 'built-against'),
});
const storePath = fc.record({ pname: fc.constantFrom(...PNAMES), findings: fc.array(finding, { minLength: 0, maxLength: 7 }) });

let t: TestDatabase;
let runId: number;
let runtime: Runtime;
let app: FastifyInstance;

beforeAll(async () => {
  t = await freshPostgres();
  await migrate(t.db);
  const [paths] = fc.sample(fc.array(storePath, { minLength: 80, maxLength: 80 }), 1);
  const all = (paths ?? []).map((p, i) => ({ ...p, path: `/nix/store/${Array.from({ length: 32 }, (_, k) => BASE32[(i * 7 + k * 13 + (k === 0 ? i : 0)) % 32]).join('')}-${p.pname}-${1 + (i % 3)}.0` }));
  runId = await createRun(t.db, { source: { kind: 'paths', label: 'keyset' }, cacheUrl: 'file:///nowhere', rulesetDigest: 'd'.repeat(64) });
  await markRunStarted(t.db, runId);
  const { invalid } = await addRunPaths(t.db, runId, all.map((p) => p.path));
  expect(invalid).toEqual([]);
  await setRunTotal(t.db, runId, all.length);
  for (const [i, p] of all.entries()) {
    // One finding per (file, rule): the store's unique key.
    const unique = new Map(p.findings.map((f) => [`${f.file} ${f.rule}`, f]));
    const findings: FileFinding[] = [...unique.values()].map((f) => ({
      storePath: p.path,
      file: f.file,
      library: 'libwebp',
      version: f.version,
      versionRaw: f.version,
      rule: f.rule,
      confidence: f.confidence,
      evidence: 'generated',
      vendored: p.pname !== 'libwebp',
      linkage: f.linkage,
      linkageReason: 'generated',
      matches: [],
    }));
    await recordPathResult(t.db, runId, 'd'.repeat(64), { storePath: p.path, status: 'scanned', narHash: `sha256:${i}`, narSize: 1, downloadedBytes: 1, narBytes: 1, files: findings.length, findings, durationMs: 1 });
  }
  await completeRunIfSettled(t.db, runId);
  runtime = await openRuntime(loadConfig({ ...t.env, VENDORSCAN_CACHE: 'file:///nonexistent' }), { threads: 1 });
  app = await buildApi({ ...runtime, apiToken: null });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await runtime?.close();
  await t?.drop();
});

const key = (r: { storePath: string; file: string; rule: string }): string => `${r.storePath} ${r.file} ${r.rule}`;

/** Every page with `after` from the first, as keys; checks `next` is null exactly on the last page. */
async function walk(q: VendorsQuery): Promise<string[]> {
  const seen: string[] = [];
  let page = await vendors(t.db, q);
  for (let n = 0; ; n++) {
    seen.push(...page.rows.map(key));
    if (page.next === null) break;
    expect(page.rows).toHaveLength(q.limit);
    const after = parseVendorsCursor(page.next, q.sort ?? 'path', q.descending === true);
    if ('error' in after) throw new Error(after.error);
    expect(n).toBeLessThan(1000);
    page = await vendors(t.db, { ...q, after });
  }
  return seen;
}

const filters: [string, Partial<VendorsQuery>][] = [
  ['no filter', {}],
  ['range, confidence, vendored', { range: parseVersionRange('>=1.2.4 <1.10.0'), unknown: 'include', confidence: ['high', 'low'], vendored: true }],
  ["own packages, any linkage, unknown only", { vendored: false, linkage: null, unknown: 'only' }],
];

describe('keyset pages of the vendors query', () => {
  for (const sort of VENDOR_SORTS) {
    for (const descending of [false, true]) {
      it(`walk the same rows as one OFFSET-0 read: sort=${sort}${descending ? ' desc' : ''}`, async () => {
        for (const [label, f] of filters) {
          const base: VendorsQuery = { runId, library: 'libwebp', range: null, vendored: null, unknown: 'include', limit: 5000, offset: 0, sort, descending, ...f };
          const whole = await vendors(t.db, base);
          expect(whole.next).toBeNull();
          expect(whole.rows.length, label).toBe(whole.total);
          const expected = whole.rows.map(key);
          // Ties and unknown versions must be in the generated store, or the walk proves little.
          if (label === 'no filter') {
            expect(whole.rows.some((r) => r.version === null)).toBe(true);
            expect(new Set(expected).size).toBe(expected.length);
          }
          for (const limit of [1, 3, 17]) expect(await walk({ ...base, limit }), `${label}, limit ${limit}`).toEqual(expected);
          // The offset pages agree with the keyset pages, from the front and (past 1,000 rows) from the end.
          const page = await vendors(t.db, { ...base, limit: 7, offset: 7 });
          expect(page.rows.map(key)).toEqual(expected.slice(7, 14));
        }
      }, 60_000);
    }
  }

  it('holds unknown versions, equal versions and shared pnames', async () => {
    const whole = await vendors(t.db, { runId, library: 'libwebp', range: null, vendored: null, unknown: 'include', linkage: null, limit: 5000, offset: 0, sort: 'package' });
    const pnames = new Map<string, Set<string>>();
    for (const r of whole.rows) pnames.set(r.pname, (pnames.get(r.pname) ?? new Set()).add(r.storePath));
    expect([...pnames.values()].some((s) => s.size > 1)).toBe(true);
    const versions = whole.rows.map((r) => r.version);
    expect(versions.filter((v) => v === '1.3.2').length).toBeGreaterThan(1);
    expect(versions.filter((v) => v === null).length).toBeGreaterThan(1);
  });
});

describe('after in GET /v1/vendors', () => {
  const get = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await app.inject({ method: 'GET', url });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> };
  };

  it('follows next to the last page, the same rows as one big page', async () => {
    const q = `library=libwebp&vendored=any&run=${runId}&sort=version&order=desc`;
    const whole = await get(`/v1/vendors?${q}&limit=5000`);
    expect(whole.status).toBe(200);
    expect(whole.body['next']).toBeNull();
    const rows: string[] = [];
    let next: unknown;
    do {
      const r = await get(`/v1/vendors?${q}&limit=4${typeof next === 'string' ? `&after=${next}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      rows.push(...(r.body['results'] as { storePath: string; file: string; rule: string }[]).map(key));
      next = r.body['next'];
    } while (typeof next === 'string');
    expect(rows).toEqual((whole.body['results'] as { storePath: string; file: string; rule: string }[]).map(key));
  });

  it('refuses after with offset, a tampered cursor and a cursor of another sort, naming the parameter', async () => {
    const first = await get(`/v1/vendors?library=libwebp&vendored=any&run=${runId}&limit=2`);
    const next = String(first.body['next']);
    expect(await get(`/v1/vendors?library=libwebp&vendored=any&limit=2&after=${next}&offset=2`)).toMatchObject({ status: 400, body: { parameter: 'offset', message: expect.stringMatching(/offset or after/) } });
    const forged = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      'not a cursor!',
      `${next}x`,
      forged(['path', 'asc', null, '/nix/store/x', 'f']),
      forged(['path', 'asc', null, 1, 'f', 'r']),
      forged(['path', 'asc', "' OR 1=1 --", '/nix/store/x', 'f', 'r']),
      forged({ path: '/nix/store/x' }),
      forged(['confidence', 'asc', 'extreme', '/nix/store/x', 'f', 'r']),
      forged(['path', 'sideways', null, '/nix/store/x', 'f', 'r']),
    ]) {
      expect(await get(`/v1/vendors?library=libwebp&vendored=any&limit=2&after=${encodeURIComponent(bad)}`), bad).toMatchObject({ status: 400, body: { parameter: 'after' } });
    }
    expect(await get(`/v1/vendors?library=libwebp&vendored=any&limit=2&sort=package&after=${next}`)).toMatchObject({ status: 400, body: { parameter: 'after', message: expect.stringMatching(/sort=path&order=asc, not in sort=package/) } });
    // A well-formed cursor at any position is a position, bound as a parameter: quotes are data.
    const quoted = await get(`/v1/vendors?library=libwebp&vendored=any&limit=2&sort=package&after=${forged(['package', 'asc', "zz' OR 1=1 --", '/nix/store/x', 'f', 'r'])}`);
    expect(quoted).toMatchObject({ status: 200, body: { results: [], next: null } });
  });

  it('the library page continues by keyset and keeps offset links', async () => {
    const page = async (url: string): Promise<{ html: string; rows: string[]; next: string }> => {
      const r = await app.inject({ method: 'GET', url: url.replaceAll('&amp;', '&') });
      expect(r.statusCode, url).toBe(200);
      return { html: r.body, rows: [...r.body.matchAll(/data-store-path="([^"]+)"/g)].map((m) => m[1] ?? ''), next: /rel="next" href="([^"]+)"/.exec(r.body)?.[1] ?? '' };
    };
    const first = await page(`/libraries/libwebp?run=${runId}&vendored=any&sort=version&order=desc`);
    expect(first.next).toMatch(/after=[\w-]+&amp;from=100$/);
    const second = await page(first.next);
    expect(second.html).toMatch(/rows 101–/);
    expect(second.html).toMatch(/rel="prev" href="[^"]*offset=0"/);
    const byOffset = await page(`/libraries/libwebp?run=${runId}&vendored=any&sort=version&order=desc&offset=100`);
    expect(second.rows).toEqual(byOffset.rows);
    expect(second.rows.length).toBeGreaterThan(0);
    // A cursor that was changed is the page's 400 naming it, as any malformed parameter.
    const bad = await app.inject({ method: 'GET', url: `/libraries/libwebp?run=${runId}&after=xyz&from=100` });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('data-parameter="after"');
  });
});
