// The results store on the real PostgreSQL and on embedded PGlite: migrations, idempotent
// writes, incremental linking, and the vendors/libraries queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate, MIGRATIONS_DIR } from '../../store/migrate.ts';
import { openDatabase } from '../../store/database.ts';
import { addRunPaths, completeRunIfSettled, createRun, findNarScan, markPathsAttempted, markRunStarted, recordPathResult, runProgress, runWarnings, setRunTotal } from '../../store/runs.ts';
import { DeepOffsetError, libraries, vendors, vendorsSql, storeLibraryCounts } from '../../store/queries.ts';
import { openRuntime } from '../../services/runtime.ts';
import { buildApi } from '../../services/api/app.ts';
import { loadConfig } from '../../services/config.ts';
import { parseVersionRange, VERSION_KEY_FORMAT } from '../../signatures/version.ts';
import type { FileFinding, PathResult } from '../../scanner/path-result.ts';
import { freshPGlite, freshPostgres, POSTGRES_ADMIN_URL, type TestDatabase } from '../helpers/databases.ts';
import { seedMillionFindings } from '../helpers/seed-findings.ts';

const H = (c: string): string => c.repeat(32);
function finding(storePath: string, library: string, version: string | null, file = 'lib/x.so'): FileFinding {
  return { storePath, file, library, version, versionRaw: null, rule: `${library}_rule`, confidence: 'high', evidence: 'version-string', vendored: true, linkage: 'copy', linkageReason: 'defines x', matches: [] };
}
function scanned(storePath: string, narHash: string, findings: FileFinding[]): PathResult {
  return { storePath, status: 'scanned', narHash, narSize: 100, downloadedBytes: 40, narBytes: 100, files: 1, findings, durationMs: 1 };
}

describe.each([
  ['postgres', freshPostgres],
  ['pglite', freshPGlite],
])('%s', (_kind, fresh) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await fresh();
  }, 60_000);
  afterAll(() => t.drop());

  it('applies the migrations once and records them', async () => {
    const expected = [...readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort(), `version_key_format/${VERSION_KEY_FORMAT}`];
    expect(expected[0]).toBe('001_init.sql');
    expect(await migrate(t.db)).toEqual(expected);
    expect(await migrate(t.db)).toEqual([]);
    const { rows } = await t.db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    expect(rows.map((r) => r.name).sort()).toEqual([...expected].sort());
    expect(rows.find((r) => r.name === '001_init.sql')?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(expected).toContain('005_finding_linkage.sql');
  });

  it.runIf(_kind === 'pglite')('runs the embedded store with small shared buffers (peak RSS of a short command)', async () => {
    const { rows } = await t.db.query<{ shared_buffers: string }>('SHOW shared_buffers');
    expect(rows[0]?.shared_buffers).toBe('32MB');
  });

  it('leaves an up-to-date store untouched, and resyncs library_packages when they drifted', async () => {
    await migrate(t.db);
    // ctid changes when a row is rewritten (the slow path deletes and reinserts every pair).
    const rows = async (): Promise<string[]> => (await t.db.query<{ r: string }>('SELECT ctid::text || library || pname AS r FROM library_packages ORDER BY 1')).rows.map((x) => x.r);
    const before = await rows();
    expect(before.length).toBeGreaterThan(0);
    expect(await migrate(t.db)).toEqual([]);
    expect(await rows()).toEqual(before);
    await t.db.query("DELETE FROM library_packages WHERE library = 'libwebp'");
    await t.db.query("INSERT INTO library_packages (library, pname) VALUES ('libwebp', 'not-a-libwebp-package')");
    expect(await migrate(t.db)).toEqual([]);
    const pnames = (await t.db.query<{ pname: string }>("SELECT pname FROM library_packages WHERE library = 'libwebp' ORDER BY 1")).rows.map((r) => r.pname);
    expect(pnames).toContain('libwebp');
    expect(pnames).not.toContain('not-a-libwebp-package');
  });

  it('refuses a migration changed after it was applied', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    appendFileSync(path.join(dir, '001_init.sql'), '\n-- edited\n');
    await expect(migrate(t.db, dir)).rejects.toThrow(/migration 001_init\.sql was changed after it was applied/);
  });

  const webpOwn = `/nix/store/${H('a')}-libwebp-1.2.4`;
  const electron = `/nix/store/${H('b')}-signal-desktop-6.0.0`;
  const chromium = `/nix/store/${H('c')}-chromium-120.0`;
  const unknownCopy = `/nix/store/${H('d')}-ffmpeg-static-4.1.0`;
  let run1: number;

  it('records results idempotently, and answers who vendors libwebp < 1.3.2', async () => {
    run1 = await createRun(t.db, { source: { kind: 'paths', label: 'test' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    await markRunStarted(t.db, run1);
    const results = [
      scanned(webpOwn, 'sha256:own', [finding(webpOwn, 'libwebp', '1.2.4')]),
      scanned(electron, 'sha256:electron', [finding(electron, 'libwebp', '1.3.1'), finding(electron, 'libpng', '1.6.39')]),
      scanned(chromium, 'sha256:chromium', [finding(chromium, 'libwebp', '1.3.2')]),
      scanned(unknownCopy, 'sha256:ffmpeg', [finding(unknownCopy, 'libwebp', null)]),
    ];
    for (const r of results) await recordPathResult(t.db, run1, 'd1', r);
    for (const r of results) await recordPathResult(t.db, run1, 'd1', r); // a retried job
    await setRunTotal(t.db, run1, 4);
    expect(await completeRunIfSettled(t.db, run1)).toBe(true);
    const { rows } = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM findings');
    expect(Number(rows[0]?.n)).toBe(5);

    const q = (range: string | null, unknown: 'include' | 'exclude' | 'only', vendored: boolean | null = true) =>
      vendors(t.db, { runId: run1, library: 'libwebp', range: range ? parseVersionRange(range) : null, vendored, unknown, limit: 100, offset: 0 });
    expect((await q('<1.3.2', 'exclude')).rows.map((r) => r.storePath)).toEqual([electron]);
    expect((await q('<1.3.2', 'include')).rows.map((r) => r.storePath)).toEqual([electron, unknownCopy]);
    expect((await q(null, 'only')).rows.map((r) => r.storePath)).toEqual([unknownCopy]);
    expect((await q('<1.3.2', 'exclude', null)).rows.map((r) => [r.storePath, r.vendored])).toEqual([
      [webpOwn, false],
      [electron, true],
    ]);
    expect((await q('>=1.3.2', 'exclude')).rows.map((r) => r.version)).toEqual(['1.3.2']);
    const page = await vendors(t.db, { runId: run1, library: 'libwebp', range: null, vendored: null, unknown: 'include', limit: 2, offset: 2 });
    expect(page.total).toBe(4);
    expect(page.rows.map((r) => r.storePath)).toEqual([chromium, unknownCopy]);
  });

  it('counts copies and store paths per library and version', async () => {
    const rows = await libraries(t.db, run1);
    expect(rows.find((r) => r.library === 'libwebp' && r.version === '1.3.1')).toMatchObject({ copies: 1, storePaths: 1, vendoredCopies: 1 });
    expect(rows.find((r) => r.library === 'libwebp' && r.version === '1.2.4')).toMatchObject({ copies: 1, vendoredCopies: 0 });
    expect(rows.filter((r) => r.library === 'libwebp').map((r) => r.version)).toEqual([null, '1.2.4', '1.3.1', '1.3.2']);
  });

  it('leaves built-against findings out of vendored answers and counts; shows them on request', async () => {
    const consumer = `/nix/store/${H('g')}-osslsigncode-2.5`;
    const run = await createRun(t.db, { source: { kind: 'paths', label: 'linkage' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    await markRunStarted(t.db, run);
    const linked: FileFinding = { ...finding(consumer, 'libwebp', '1.3.1', 'bin/tool'), linkage: 'built-against', linkageReason: 'NEEDs libwebp.so.7' };
    const stripped: FileFinding = { ...finding(consumer, 'libwebp', '1.3.1', 'bin/stripped'), linkage: 'unknown', linkageReason: 'no symbol table and no matching DT_NEEDED' };
    await recordPathResult(t.db, run, 'd1', scanned(consumer, 'sha256:consumer', [linked, stripped, finding(consumer, 'libwebp', '1.3.1', 'lib/libwebp.a')]));
    await setRunTotal(t.db, run, 1);
    await completeRunIfSettled(t.db, run);
    const q = (linkage?: ('copy' | 'built-against' | 'unknown')[] | null) =>
      vendors(t.db, { runId: run, library: 'libwebp', range: parseVersionRange('<1.3.2'), vendored: true, unknown: 'exclude', linkage, limit: 10, offset: 0 });
    expect((await q()).rows.map((r) => [r.file, r.linkage])).toEqual([['bin/stripped', 'unknown'], ['lib/libwebp.a', 'copy']]);
    expect((await q(null)).total).toBe(3);
    expect((await q(['built-against'])).rows).toMatchObject([{ file: 'bin/tool', linkage: 'built-against', linkageReason: 'NEEDs libwebp.so.7' }]);
    expect((await libraries(t.db, run)).find((r) => r.library === 'libwebp')).toMatchObject({ version: '1.3.1', copies: 2, vendoredCopies: 2, storePaths: 1, builtAgainst: 1 });
  });

  it("stores a completed run's library counts when it completes, and answers from them", async () => {
    const owner = `/nix/store/${H('h')}-app-1.0`;
    const run = await createRun(t.db, { source: { kind: 'paths', label: 'counts' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    await markRunStarted(t.db, run);
    await recordPathResult(t.db, run, 'd1', scanned(owner, 'sha256:counts', [finding(owner, 'libpng', '1.6.39', 'lib/a.so'), finding(owner, 'libpng', '1.6.40', 'lib/b.so')]));
    const live = await libraries(t.db, run);
    const stored = async () => (await t.db.query<{ n: string }>('SELECT count(*) AS n FROM run_library_counts WHERE run_id = $1', [run])).rows[0]?.n;
    // Still running: counted live, nothing stored.
    expect(Number(await stored())).toBe(0);
    await setRunTotal(t.db, run, 1);
    expect(await completeRunIfSettled(t.db, run)).toBe(true);
    // Counted at completion, in the live order; answered from the table from now on.
    expect(Number(await stored())).toBe(live.length);
    expect(await libraries(t.db, run)).toEqual(live);
    await t.db.query("UPDATE run_library_counts SET copies = 99 WHERE run_id = $1 AND version = '1.6.40'", [run]);
    expect((await libraries(t.db, run)).find((r) => r.version === '1.6.40')?.copies).toBe(99);
    // Counting again changes nothing (a second completion, or two processes at once).
    await storeLibraryCounts(t.db, run);
    expect(Number(await stored())).toBe(live.length);
  });

  it('links an unchanged NAR into a new run instead of storing it again', async () => {
    const scan = await findNarScan(t.db, 'sha256:electron', 'd1');
    expect(scan).not.toBeNull();
    expect(await findNarScan(t.db, 'sha256:electron', 'd2')).toBeNull();
    const run2 = await createRun(t.db, { source: { kind: 'paths', label: 'again' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    await markRunStarted(t.db, run2);
    await recordPathResult(t.db, run2, 'd1', { ...scanned(electron, 'sha256:electron', []), findings: [], linkedNarScan: scan! });
    await setRunTotal(t.db, run2, 1);
    await completeRunIfSettled(t.db, run2);
    expect(await runProgress(t.db, run2)).toMatchObject({ state: 'completed', skipped: 1, scanned: 0, findings: 2 });
    const r = await vendors(t.db, { runId: run2, library: 'libpng', range: parseVersionRange('<1.6.43'), vendored: true, unknown: 'exclude', limit: 10, offset: 0 });
    expect(r.rows.map((x) => x.storePath)).toEqual([electron]);
  });

  it('keeps a run open while paths are pending or the source is unread', async () => {
    const run = await createRun(t.db, { source: { kind: 'paths', label: 'open' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    await markRunStarted(t.db, run);
    await addRunPaths(t.db, run, [webpOwn, electron]);
    await recordPathResult(t.db, run, 'd1', scanned(webpOwn, 'sha256:own', []));
    expect(await completeRunIfSettled(t.db, run)).toBe(false); // the source is not all read: no total yet
    await setRunTotal(t.db, run, 2);
    expect(await completeRunIfSettled(t.db, run)).toBe(false); // one path still pending
    expect((await runProgress(t.db, run))?.state).toBe('running');
    await recordPathResult(t.db, run, 'd1', scanned(electron, 'sha256:electron', []));
    expect(await completeRunIfSettled(t.db, run)).toBe(true);
  });

  it("lists a run's paths whose scans left warnings, in path order, the same whichever way it looks them up", async () => {
    const alphabet = '0123456789abcdfghijklmnpqrsvwxyz';
    const paths = Array.from({ length: 12 }, (_, i) => `/nix/store/${(alphabet[(i * 7) % 32] ?? '0').repeat(32)}-warned-${i}`);
    const run = await createRun(t.db, { source: { kind: 'paths', label: 'warnings' }, cacheUrl: 'file:///x', rulesetDigest: 'dw' });
    const other = await createRun(t.db, { source: { kind: 'paths', label: 'warnings, other run' }, cacheUrl: 'file:///x', rulesetDigest: 'dw' });
    await addRunPaths(t.db, run, paths.slice(0, 10));
    await addRunPaths(t.db, other, paths.slice(10));
    // Every third path of the run has a warning; two paths share one warned NAR; the other run's paths are warned too.
    for (const [i, p] of paths.entries()) {
      const warned = i % 3 === 0 || i >= 10;
      const narHash = i === 4 ? 'sha256:warned-shared' : i === 3 ? 'sha256:warned-shared' : `sha256:warned-${i}`;
      await recordPathResult(t.db, i >= 10 ? other : run, 'dw', { ...scanned(p, narHash, []), ...(warned || i === 4 ? { warnings: [`lib/a${i}.tar: cap`] } : {}) });
    }
    const expected = paths
      .slice(0, 10)
      .flatMap((p, i) => (i % 3 === 0 || i === 4 ? [{ storePath: p, warnings: [`lib/a${i === 4 ? 3 : i}.tar: cap`] }] : []))
      .sort((a, b) => a.storePath.localeCompare(b.storePath));
    expect(expected).toHaveLength(5);
    expect(await runWarnings(t.db, run)).toEqual(expected);
    // Past the id lookup's ceiling (0 here) it reads the run's paths in order: the same answer.
    expect(await runWarnings(t.db, run, 1000, 0)).toEqual(expected);
    expect(await runWarnings(t.db, run, 2)).toEqual(expected.slice(0, 2));
    expect(await runWarnings(t.db, run, 2, 0)).toEqual(expected.slice(0, 2));
    // The index behind it accepts any stored value (a predicate on jsonb_array_length refused a
    // non-array, so a store holding one could not be migrated).
    await t.db.query(`INSERT INTO nar_scans (nar_hash, ruleset_digest, nar_size, files, warnings) VALUES ('sha256:not-an-array', 'dw', 1, 1, '{"a": 1}'::jsonb)`);
  });

  it("counts a job's taking up of paths: only that run's pending rows of the paths named", async () => {
    const alphabet = '0123456789abcdfghijklmnpqrsvwxyz'; // Nix's base32
    const paths = Array.from({ length: 40 }, (_, i) => `/nix/store/${(alphabet[i % 32] ?? '0').repeat(31)}${alphabet[Math.floor(i / 32)]}-attempt-${i}`);
    const run = await createRun(t.db, { source: { kind: 'paths', label: 'attempts' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    const other = await createRun(t.db, { source: { kind: 'paths', label: 'attempts, other run' }, cacheUrl: 'file:///x', rulesetDigest: 'd1' });
    expect((await addRunPaths(t.db, run, paths)).registered).toHaveLength(40);
    await addRunPaths(t.db, other, paths);
    await recordPathResult(t.db, run, 'd1', scanned(paths[0] ?? '', 'sha256:attempt0', []));
    const attempts = async (runId: number): Promise<Map<string, number>> => {
      const { rows } = await t.db.query<{ path: string; attempts: number }>('SELECT sp.path, rp.attempts FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1', [runId]);
      return new Map(rows.map((r) => [r.path, Number(r.attempts)]));
    };
    const before = await attempts(run);
    const otherBefore = await attempts(other);
    // The first path is settled, the next two pending; the last one named is in no run.
    await markPathsAttempted(t.db, run, [...paths.slice(0, 3), `/nix/store/${'z'.repeat(32)}-not-in-run`]);
    await markPathsAttempted(t.db, run, paths.slice(1, 2));
    const after = await attempts(run);
    for (const p of paths) expect((after.get(p) ?? 0) - (before.get(p) ?? 0), p).toBe(p === paths[1] ? 2 : p === paths[2] ? 1 : 0);
    expect(await attempts(other)).toEqual(otherBefore);
  });
});

describe('postgres at scale', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPostgres();
    await migrate(t.db);
  }, 60_000);
  afterAll(() => t.drop());

  it('two processes migrating at once apply each file once', async () => {
    const other = await openDatabase({ url: t.env['DATABASE_URL'] });
    const results = await Promise.all([migrate(t.db), migrate(other)]);
    await other.close();
    expect(results.flat()).toEqual([]);
  });

  it('survives a backend terminated inside a transaction: the transaction fails, the next one works', async () => {
    const { default: pgLib } = await import('pg');
    const admin = new pgLib.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    const failed = t.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      // The FATAL arrives while this client is checked out and idle: unhandled, it would kill the process.
      await new Promise((r) => setTimeout(r, 200));
      await tx.query('SELECT 1');
    });
    await expect(failed).rejects.toThrow(/terminat|not queryable|Connection/i);
    await admin.end();
    const again = await t.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'));
    expect(again.rows[0]?.one).toBe(1);
  });

  it('answers the vendors query from an index over a million findings', async () => {
    await seedMillionFindings(t.db);
    const { rows } = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM findings');
    expect(Number(rows[0]?.n)).toBe(1_000_000);
    // The very SQL the API runs: its findings are read through an index, not a scan of the table.
    const query = { runId: 1, library: 'libwebp', range: parseVersionRange('<1.2'), vendored: true, unknown: 'exclude', limit: 10, offset: 0 } as const;
    const sql = vendorsSql(query);
    for (const [text, params] of [[sql.count, sql.params], [sql.page, [...sql.params, 10, 0]]] as const) {
      const plan = (await t.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, [...params])).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index (Only )?Scan using findings_\w+|Bitmap Index Scan on findings_\w+/);
      expect(plan).not.toMatch(/Seq Scan on findings/);
    }
    const r = await vendors(t.db, query);
    let expected = 0;
    for (let i = 1; i <= 1_000_000; i++) if (i % 5 === 4 && i % 7 < 2) expected++;
    expect(r.total).toBe(expected);
    expect(r.rows).toHaveLength(10);
    expect(r.rows.every((x) => x.version === '1.0' || x.version === '1.1')).toBe(true);
    // Sorted by version or confidence, a first page reads its rows off an index in that order and
    // stops: no sort of every copy of the library (before: a hash join of all 200,000 libwebp
    // copies and an external merge sort, 700 ms).
    for (const sort of ['version', 'confidence'] as const) {
      for (const descending of [false, true]) {
        const sorted = vendorsSql({ runId: 1, library: 'libwebp', range: null, vendored: true, unknown: 'include', limit: 100, offset: 0, sort, descending });
        const plan = (await t.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sorted.page}`, [...sorted.params, 101, 0])).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan, `${sort} ${descending ? 'desc' : 'asc'}`).toMatch(new RegExp(`Index Scan (Backward )?using findings_library_${sort}_id`));
        expect(plan, `${sort} ${descending ? 'desc' : 'asc'}`).not.toMatch(/Hash Join|Seq Scan on findings|external merge/);
      }
    }
    // An offset page reads every row it skips: past MAX_OFFSET_SKIP (from the start, or from the end
    // past the middle) it is refused, in the store, the API (400 naming offset) and the dashboard.
    const at = (offset: number) => vendors(t.db, { ...query, offset });
    expect(r.total).toBe(57_143);
    await expect(at(25_000)).rejects.toThrow(DeepOffsetError);
    await expect(at(30_000)).rejects.toThrow(/offset 30000 would read 27133 rows past before its page \(at most 20000\): page on with after/);
    expect((await at(15_000)).rows).toHaveLength(10);
    expect((await at(50_000)).rows).toHaveLength(10);
    const runtime = await openRuntime(loadConfig({ ...t.env, VENDORSCAN_CACHE: 'file:///nonexistent' }), { threads: 1 });
    const app = await buildApi({ ...runtime, apiToken: null });
    try {
      const deep = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&run=1&version=%3C1.2&unknown=exclude&limit=10&offset=30000' });
      expect(deep.statusCode).toBe(400);
      expect(deep.json()).toMatchObject({ parameter: 'offset', message: expect.stringMatching(/page on with after/) });
      expect((await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&run=1&version=%3C1.2&unknown=exclude&limit=10&offset=50000' })).statusCode).toBe(200);
      const page = await app.inject({ method: 'GET', url: '/libraries/libwebp?run=1&version=%3C1.2&unknown=exclude&offset=30000' });
      expect(page.statusCode).toBe(400);
      expect(page.body).toMatch(/page on with after/);
    } finally {
      await app.close();
      await runtime.close();
    }
  }, 240_000);
});
