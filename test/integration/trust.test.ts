// Answers a security team can trust, tried as a new user would on the bundled demo cache and on a
// real Nix-made cache with a vendored libpng: an ad-hoc scan never becomes "the latest run"; a
// cache that cannot be opened is an error, not an empty cache; a run where nothing could be scanned
// ends failed and never answers; every answer says what it covered; exit codes; --help has no side
// effects; one ruleset digest from every entry point and checkout path, so a service run reuses a
// CLI run's scans.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServiceCache, type ServiceCache } from '../helpers/service-cache.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { loadConfig } from '../../services/config.ts';
import { openRuntime } from '../../services/runtime.ts';
import { buildApi } from '../../services/api/app.ts';
import { DEFAULT_SIGNATURES_DIR, loadSignatures } from '../../signatures/loader.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');
const demo = path.join(repo, 'examples', 'demo-cache');
const demoPaths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').trim().split('\n');
const libpngOwn = demoPaths.find((p) => p.includes('-libpng-')) ?? '';

type Result = { code: number; stdout: string; stderr: string };
function vendorscan(dataDir: string, args: string[], env: Record<string, string> = {}, cwd = repo): Result {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, VENDORSCAN_DATA_DIR: dataDir, ...env }, timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
// Each test spawns the CLI several times; on a loaded 2-core machine a spawn can take seconds.
vi.setConfig({ testTimeout: 300_000 });

const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'vendorscan-trust-'));

describe('the latest run is the latest library scan', () => {
  const data = fresh();
  it('an ad-hoc needle scan does not replace it', () => {
    expect(vendorscan(data, ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')]).code).toBe(0);
    const before = vendorscan(data, ['query', '--library', 'libwebp', '--all']);
    expect(before.stdout).toMatch(/^Run 1, the latest completed library scan of any scope: paths from .*store-paths\.txt, finished .*, ruleset [0-9a-f]{12}; 3 store paths: 3 scanned, 0 reused unchanged, 0 not in cache, 0 failed\.$/m);
    expect(before.stdout).toMatch(/1 copy of libwebp/);
    const needle = vendorscan(data, ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt'), '--needle', 'hello world']);
    expect(needle.code).toBe(0);
    expect(needle.stderr).toMatch(/Stored as run 2 \(an ad-hoc scan: never the answer of `query`\)/);
    const after = vendorscan(data, ['query', '--library', 'libwebp', '--all']);
    expect(after.stdout).toMatch(/^Run 1, /m);
    expect(after.stdout).toMatch(/1 copy of libwebp/);
    // Asking for the ad-hoc run by id is refused, naming why.
    expect(vendorscan(data, ['query', '--library', 'libwebp', '--run', '2'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/run 2 is an ad-hoc scan/) });
  });

  it('a cache that cannot be opened stops the scan (exit 1) and stores nothing that answers', () => {
    const r = vendorscan(data, ['scan', '--cache', '/nonexistent', '--path', libpngOwn]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the binary cache file:\/\/\/nonexistent cannot be opened: .*nix-cache-info not found/);
    expect(r.stdout).not.toMatch(/No findings/);
    // A directory that exists but is not a cache is no better.
    expect(vendorscan(data, ['scan', '--cache', repo, '--path', libpngOwn])).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot be opened/) });
    const q = vendorscan(data, ['query', '--library', 'libpng', '--all']);
    expect(q.stdout).toMatch(/^Run 1, /m);
    expect(q.stdout).toMatch(/1 copy of libpng/);
  });

  it('a run in which no path could be scanned ends failed and never answers', () => {
    const r = vendorscan(data, ['scan', '--cache', demo, '--path', '/nix/store/00000000000000000000000000000000-absent-1.0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/None of the 1 store paths is in file:\/\/.*demo-cache: nothing was scanned/);
    const q = vendorscan(data, ['query', '--library', 'libpng', '--all']);
    expect(q.stdout).toMatch(/^Run 1, /m);
    const failedRun = /Stored as run (\d+)/.exec(r.stderr)?.[1];
    expect(vendorscan(data, ['query', '--library', 'libpng', '--run', failedRun ?? ''])).toMatchObject({ code: 2, stderr: expect.stringMatching(/failed and answers nothing.*no store path could be scanned: 0 failed, 1 not in the cache, of 1/) });
  });

  it('with no library scan at all, says so instead of "0 copies"', () => {
    const r = vendorscan(fresh(), ['query', '--library', 'libwebp']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No completed library scan yet, so nothing can be said about libwebp/);
    expect(r.stdout).toBe('');
  });

  it('rejects an unknown library as the API does, listing the known ones', () => {
    const r = vendorscan(data, ['query', '--library', 'webp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown library "webp"; known: .*libpng.*libvpx.*libwebp/);
  });
});

describe('exit codes', () => {
  let cache: ServiceCache;
  let broken: string;
  beforeAll(() => {
    cache = buildServiceCache(3);
    // The same cache with one NAR cut short: that path fails, the others scan.
    broken = mkdtempSync(path.join(tmpdir(), 'vendorscan-broken-cache-'));
    cpSync(cache.dir, broken, { recursive: true });
    const nar = readdirSync(path.join(broken, 'nar')).sort()[0] ?? '';
    truncateSync(path.join(broken, 'nar', nar), 1000);
  }, 180_000);

  it('1 when some paths failed (listed), 0 with --allow-failures when at least one was scanned', () => {
    const r = vendorscan(fresh(), ['scan', '--cache', broken, ...cache.storePaths.flatMap((p) => ['--path', p])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Failed:\n {2}\S+/);
    expect(r.stderr).toMatch(/1 store path failed: exit code 1 \(--allow-failures accepts a partial scan\)/);
    const allowed = vendorscan(fresh(), ['scan', '--cache', broken, ...cache.storePaths.flatMap((p) => ['--path', p]), '--allow-failures']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/1 failed/);
  });

  it('3 with --fail-on when such findings exist', () => {
    const args = ['scan', '--cache', cache.dir, ...cache.storePaths.flatMap((p) => ['--path', p])];
    // app0 vendors libpng 1.6.39, in the range of bundled libpng advisories (fixed in 1.6.51).
    expect(vendorscan(fresh(), [...args, '--fail-on', 'vulnerable'])).toMatchObject({ code: 3, stderr: expect.stringMatching(/--fail-on vulnerable: \d+ findings? matched: exit code 3/) });
    expect(vendorscan(fresh(), [...args, '--fail-on', 'vendored']).code).toBe(3);
    // The demo cache holds only the libraries' own packages: nothing vendored, something found.
    const demoArgs = ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')];
    expect(vendorscan(fresh(), [...demoArgs, '--fail-on', 'vendored']).code).toBe(0);
    expect(vendorscan(fresh(), [...demoArgs, '--fail-on', 'vulnerable']).code).toBe(0);
    expect(vendorscan(fresh(), [...demoArgs, '--fail-on', 'any']).code).toBe(3);
    expect(vendorscan(fresh(), [...demoArgs, '--fail-on', 'sometimes'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--fail-on must be one of vulnerable, vendored, any/) });
  });

  it('says how many paths were reused unchanged, and why no NAR was read', () => {
    const data = fresh();
    vendorscan(data, ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')]);
    const again = vendorscan(data, ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Scanned 3 of 3 store paths in \S+ \(3 reused unchanged: same NAR, same ruleset, results of an earlier scan; 0 downloaded and scanned\)/);
    expect(again.stderr).toMatch(/Read no NAR: every scanned path was reused unchanged\./);
    expect(again.stderr).not.toMatch(/Read 0 B/);
  });
});

describe('--help and --version', () => {
  it('every command answers --help with its options and no side effect', () => {
    for (const command of ['scan', 'query', 'migrate', 'serve', 'worker', 'scheduler']) {
      const data = path.join(fresh(), 'never-created');
      const r = vendorscan(data, [command, '--help'], { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: '' });
      expect([command, r.code]).toEqual([command, 0]);
      expect(r.stdout).toMatch(new RegExp(`^Usage: vendorscan ${command}`));
      expect([command, existsSync(data)]).toEqual([command, false]);
    }
    expect(vendorscan(fresh(), ['--help']).stdout).toMatch(/Commands:\n {2}scan/);
  });

  it('--version prints the version and the ruleset digest', () => {
    const r = vendorscan(fresh(), ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vendorscan \d+\.\d+\.\d+\nruleset [0-9a-f]{64}\n/);
    expect(r.stdout).toContain(loadSignatures().digest);
  });
});

describe('one ruleset digest', () => {
  let server: StaticServer;
  beforeAll(async () => {
    server = await serveDirectory(demo);
  });
  afterAll(() => server?.close());

  it('is the same from any checkout path and every entry point, and a service run reuses a CLI run', async () => {
    const elsewhere = path.join(fresh(), 'another-checkout', 'signatures');
    cpSync(DEFAULT_SIGNATURES_DIR, elsewhere, { recursive: true, filter: (f) => !f.endsWith('.ts') });
    const digest = loadSignatures().digest;
    expect(loadSignatures(elsewhere).digest).toBe(digest);
    // The CLI from another working directory, with the moved signatures.
    const data = fresh();
    const cwd = fresh();
    // (over file://: this process's HTTP server cannot answer while spawnSync blocks it)
    const scan = vendorscan(data, ['scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')], { VENDORSCAN_SIGNATURES: elsewhere }, cwd);
    expect([scan.code, scan.stderr]).toEqual([0, expect.stringMatching(/Stored as run 1 \(a library scan\)/)]);
    expect(vendorscan(data, ['--version'], { VENDORSCAN_SIGNATURES: elsewhere }, cwd).stdout).toContain(`ruleset ${digest}`);
    // The service (serve, worker and scheduler share openRuntime) on the same store.
    const runtime = await openRuntime(loadConfig({ VENDORSCAN_DATA_DIR: data, VENDORSCAN_CACHE: server.url }), { threads: 1 });
    try {
      expect(runtime.signatures.digest).toBe(digest);
      const app = await buildApi({ ...runtime, apiToken: 'token' });
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.json()).toMatchObject({ ok: true, signatures: digest, cache: { reachable: true } });
      const started = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: demoPaths }, headers: { authorization: 'Bearer token' } });
      expect(started.statusCode).toBe(202);
      const id = (started.json() as { id: number }).id;
      const done = await waitFor('the service run', async () => (await app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json() as Record<string, unknown>, (b) => b['state'] === 'completed');
      // Every path linked to the CLI's scans: nothing downloaded again.
      expect(done).toMatchObject({ total: 3, skipped: 3, scanned: 0, failed: 0, rulesetDigest: digest });
      await app.close();
    } finally {
      await runtime.close();
    }
  }, 400_000);
});
