// Issue 13, the results store: H5 (two processes on one embedded data dir fail at once, naming the
// pid, instead of corrupting it), M8 (a scan killed with -9 leaves its run `interrupted`, and
// `scan --resume RUN` finishes it; on PostgreSQL, a `serve` without Redis killed with -9 has its
// run and search marked interrupted by the next process, through owners and heartbeats), L7 (a
// retried job never rewrites a scanned path as unchanged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../store/database.ts';
import { migrate, openResultsStore } from '../../store/migrate.ts';
import { interruptDeadOwners, startOwner } from '../../store/owners.ts';
import { createRun, markRunStarted, recordPathResult, recordSettledResults } from '../../store/runs.ts';
import { freshPostgres } from '../helpers/databases.ts';
import { freePort } from '../helpers/free-port.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';
import { V8_FLAGS } from '../../bin/v8-flags.mjs';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');

/** spawnSync would block this process, where the test's HTTP cache runs. */
function vendorscanAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function holdStore(dataDir: string): Promise<ChildProcess> {
  const script = `import { openDatabase } from ${JSON.stringify(path.join(repo, 'store', 'database.ts'))};
await openDatabase({ dataDir: ${JSON.stringify(dataDir)} });
process.stdout.write('open\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('open') && resolve(child));
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

describe('one process per embedded data dir (H5)', () => {
  it('a second opener fails at once naming the pid; a lock left by a killed process is taken over', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-lock-'));
    const pgdata = path.join(dir, 'pgdata');
    const holder = await holdStore(pgdata);
    try {
      await expect(openDatabase({ dataDir: pgdata })).rejects.toThrow(new RegExp(`data dir ${pgdata} in use by pid ${holder.pid}`));
      const cli = spawnSync(process.execPath, [bin, 'scan', '--cache', path.join(repo, 'examples', 'demo-cache'), '--paths', path.join(repo, 'examples', 'demo-cache', 'store-paths.txt')], {
        env: { ...process.env, VENDORSCAN_DATA_DIR: dir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toMatch(new RegExp(`vendorscan scan: data dir ${pgdata} in use by pid ${holder.pid}`));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    const db = await openDatabase({ dataDir: pgdata });
    expect(db.recoveredFromCrash).toBe(true);
    await db.close();
  }, 120_000);
});

describe('interrupted runs (M8)', () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  let stall = true;
  let cacheDir: string;
  let paths: string[];

  beforeAll(async () => {
    paths = [0, 1, 2].map((i) => addToStore(`resume-${i}-1.0`, { 'f.txt': `resume ${i} hellomark\n` }));
    cacheDir = makeBinaryCache(paths, 'xz');
    const stalled = readFileSync(path.join(cacheDir, `${path.basename(paths[2]!).slice(0, 32)}.narinfo`), 'utf8').match(/^URL: (.*)$/m)?.[1];
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      requests.push(url);
      if (stall && url === `/${stalled}`) return; // never answers while stall is on
      createReadStream(path.join(cacheDir, url)).on('error', () => res.writeHead(404).end()).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }, 120_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a scan killed with -9 leaves its run interrupted; --resume finishes it without scanning settled paths again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-resume-'));
    const list = path.join(dir, 'paths.txt');
    writeFileSync(list, `${paths.join('\n')}\n`);
    // No re-exec (bin/vendorscan.mjs restarts itself with its V8 flags): kill -9 must hit the process that scans.
    const env = { ...process.env, VENDORSCAN_DATA_DIR: dir, VENDORSCAN_NO_REEXEC: '1' };
    const scan = spawn(process.execPath, [bin, 'scan', '--cache', base, '--paths', list, '--needle', 'hellomark', '--concurrency', '1', '--threads', '1', '--timeout', '600000'], { env, stdio: 'ignore' });
    const stalledNar = (): boolean => requests.filter((r) => r.startsWith('/nar/')).length >= 3;
    await waitFor('the scan to reach the stalled NAR', async () => stalledNar(), (v) => v, 60_000);
    scan.kill('SIGKILL');
    await new Promise((r) => scan.once('exit', r));
    const db = await openResultsStore({ databaseUrl: null, dataDir: dir });
    const { rows } = await db.query<{ state: string; error: string }>('SELECT state, error FROM runs WHERE id = 1');
    await db.close();
    expect(rows[0]?.state).toBe('interrupted');
    expect(rows[0]?.error).toMatch(/--resume/);
    stall = false;
    const narsBefore = requests.filter((r) => r.startsWith('/nar/')).length;
    const resumed = await vendorscanAsync(['scan', '--resume', '1', '--paths', list, '--needle', 'hellomark', '--format', 'jsonl'], env);
    expect(resumed.stderr).toMatch(/Stored as run 1/);
    expect(resumed.status).toBe(0);
    const db2 = await openResultsStore({ databaseUrl: null, dataDir: dir });
    const after = await db2.query<{ state: string; total: number; pending: string }>("SELECT state, total, (SELECT count(*) FROM run_paths WHERE run_id = 1 AND status = 'pending') AS pending FROM runs WHERE id = 1");
    const statuses = await db2.query<{ status: string }>('SELECT status FROM run_paths WHERE run_id = 1');
    await db2.close();
    expect(after.rows[0]).toMatchObject({ state: 'completed', total: 3 });
    expect(Number(after.rows[0]?.pending)).toBe(0);
    expect(statuses.rows.map((r) => r.status).sort()).toEqual(['scanned', 'scanned', 'scanned']);
    // The settled paths were not downloaded again: at most the interrupted one was.
    expect(requests.filter((r) => r.startsWith('/nar/')).length - narsBefore).toBeLessThanOrEqual(1);
    const again = await vendorscanAsync(['scan', '--resume', '1', '--paths', list], env);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/run 1 is completed, not interrupted/);
  }, 180_000);

  it('an embedded serve killed with -9: the next serve resumes its run through the API (the data dir admits no second process for scan --resume)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-api-resume-'));
    const env: NodeJS.ProcessEnv = { ...process.env, VENDORSCAN_DATA_DIR: dataDir, VENDORSCAN_CACHE: base, VENDORSCAN_API_TOKEN: 'tok', VENDORSCAN_NO_REEXEC: '1', VENDORSCAN_CACHE_TIMEOUT_MS: '600000' };
    delete env['DATABASE_URL'];
    delete env['REDIS_URL'];
    const children: ChildProcess[] = [];
    const serve = async (): Promise<{ child: ChildProcess; url: string }> => {
      const port = await freePort();
      const child = spawn(process.execPath, [...V8_FLAGS, bin, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      await waitFor('serve to listen', async () => err, (e) => e.includes('vendorscan API on') || child.exitCode !== null, 60_000);
      return { child, url: `http://127.0.0.1:${port}` };
    };
    const call = async (url: string, method = 'GET', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await fetch(url, { method, headers: { authorization: 'Bearer tok', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    };
    try {
      stall = true;
      const first = await serve();
      const runId = Number((await call(`${first.url}/v1/scans`, 'POST', { paths })).json['id']);
      await waitFor('all but the stalled path settled', async () => (await call(`${first.url}/v1/scans/${runId}`)).json, (p) => p['state'] === 'running' && p['pending'] === 1, 60_000);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      stall = false;
      const second = await serve();
      expect((await call(`${second.url}/v1/scans/${runId}`)).json['state']).toBe('interrupted');
      const narsBefore = requests.filter((r) => r.startsWith('/nar/')).length;
      const resumed = await call(`${second.url}/v1/scans/${runId}/resume`, 'POST');
      expect(resumed.status, JSON.stringify(resumed.json)).toBe(202);
      const done = await waitFor('the resumed run', async () => (await call(`${second.url}/v1/scans/${runId}`)).json, (p) => p['state'] === 'completed' || p['state'] === 'failed', 60_000);
      expect(done).toMatchObject({ state: 'completed', scanned: 3, total: 3 });
      // Only the interrupted path was downloaded again.
      expect(requests.filter((r) => r.startsWith('/nar/')).length - narsBefore).toBe(1);
      expect((await call(`${second.url}/v1/scans/${runId}/resume`, 'POST')).status).toBe(400);
      expect((await call(`${second.url}/v1/scans/999/resume`, 'POST')).status).toBe(404);
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    } finally {
      stall = false;
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }, 180_000);

  it('serve without Redis killed with -9: the next process marks its run and search interrupted, and scan --resume finishes the run', async () => {
    const t = await freshPostgres();
    const children: ChildProcess[] = [];
    const serve = async (): Promise<{ child: ChildProcess; url: string }> => {
      const port = await freePort();
      const child = spawn(process.execPath, [bin, 'serve', '--port', String(port)], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      await waitFor('serve to listen', async () => err, (e) => e.includes('vendorscan API on') || child.exitCode !== null, 60_000);
      expect(err).toContain('jobs in this process');
      return { child, url: `http://127.0.0.1:${port}` };
    };
    // No re-exec (bin/vendorscan.mjs restarts itself with its V8 flags): kill -9 must hit the process that scans.
    const env: NodeJS.ProcessEnv = { ...process.env, ...t.env, VENDORSCAN_CACHE: base, VENDORSCAN_API_TOKEN: 'tok', VENDORSCAN_HEARTBEAT_MS: '200', VENDORSCAN_NO_REEXEC: '1', VENDORSCAN_CACHE_TIMEOUT_MS: '600000' };
    delete env['REDIS_URL'];
    try {
      stall = true;
      const before = requests.length;
      const first = await serve();
      const post = async (route: string, body: unknown): Promise<number> => {
        const r = await fetch(`${first.url}${route}`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(r.status, await r.clone().text()).toBe(202);
        return ((await r.json()) as { id: number }).id;
      };
      const runId = await post('/v1/scans', { paths });
      const searchId = await post('/v1/searches', { needle: 'hellomark', paths });
      const row = async (table: 'runs' | 'searches', id: number): Promise<{ state: string; owner: string | null }> =>
        (await t.db.query<{ state: string; owner: string | null }>(`SELECT state, owner FROM ${table} WHERE id = $1`, [id])).rows[0] ?? { state: 'missing', owner: null };
      // Both reach the NAR that never comes, with the other paths settled.
      await waitFor(
        'the run and the search to settle all but the stalled path',
        async () => (await t.db.query<{ n: string }>("SELECT (SELECT count(*) FROM run_paths WHERE run_id = $1 AND status = 'pending') + (SELECT count(*) FROM search_paths WHERE search_id = $2 AND status = 'pending') AS n", [runId, searchId])).rows[0]?.n,
        (n) => Number(n) === 2,
        60_000,
      );
      expect(requests.slice(before).some((r) => r.startsWith('/nar/'))).toBe(true);
      expect(await row('runs', runId)).toMatchObject({ state: 'running', owner: expect.any(String) });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Without owners nothing ever changes this: the run stays `running` for good.
      const second = await serve();
      await waitFor('the next serve to mark the run interrupted', () => row('runs', runId), (r) => r.state === 'interrupted', 60_000);
      expect(await row('searches', searchId)).toMatchObject({ state: 'interrupted' });
      stall = false;
      const resumed = await vendorscanAsync(['scan', '--resume', String(runId), '--format', 'jsonl'], env);
      expect(resumed.stderr).toMatch(new RegExp(`Stored as run ${runId}`));
      expect(resumed.status).toBe(0);
      const statuses = await t.db.query<{ status: string }>('SELECT status FROM run_paths WHERE run_id = $1', [runId]);
      expect(statuses.rows.map((r) => r.status).sort()).toEqual(['scanned', 'scanned', 'scanned']);
      // The second serve, alive and beating the whole time, did not interrupt the resumed run: it completed.
      expect(await row('runs', runId)).toMatchObject({ state: 'completed' });
      // The search is resumed through the API of the serve that is alive, and completes with every match.
      const resume = (route: string) => fetch(`${second.url}${route}`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
      expect((await resume(`/v1/searches/${searchId}/resume`)).status).toBe(202);
      await waitFor('the resumed search to complete', () => row('searches', searchId), (r) => r.state === 'completed', 60_000);
      const matches = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM search_matches WHERE search_id = $1', [searchId]);
      expect(Number(matches.rows[0]?.n)).toBe(3);
      const notInterrupted = await resume(`/v1/scans/${runId}/resume`);
      expect(notInterrupted.status).toBe(400);
      expect(await notInterrupted.text()).toMatch(new RegExp(`run ${runId} is completed, not interrupted`));
      expect((await resume(`/v1/searches/${searchId}/resume`)).status).toBe(400);
      expect((await fetch(`${second.url}/v1/scans/${runId}/resume`, { method: 'POST' })).status).toBe(401);
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    } finally {
      stall = false;
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await t.drop();
    }
  }, 180_000);
});

describe('runs of a dead process on PostgreSQL (M8)', () => {
  it('are interrupted when their owner stops beating; a live owner, an unowned (Redis) run and settled runs are left alone', async () => {
    const t = await freshPostgres();
    try {
      await migrate(t.db);
      const run = async (): Promise<number> => {
        const id = await createRun(t.db, { source: { kind: 'paths', label: 'x' }, cacheUrl: 'file:///x', rulesetDigest: 'd' });
        await markRunStarted(t.db, id);
        return id;
      };
      const live = await startOwner(t.db, { intervalMs: 100, command: 'test' });
      const [mine, deadOwners, gone, unowned, done] = [await run(), await run(), await run(), await run(), await run()];
      await live.claimRun(mine);
      // An owner that beat an hour ago, one that no longer exists, no owner at all (Redis), and a completed run of the dead one.
      await t.db.query("INSERT INTO process_owners (owner, pid, host, command, stale_after_ms, heartbeat_at) VALUES ('dead', 1, 'h', 'serve', 300, now() - interval '1 hour')");
      await t.db.query("UPDATE runs SET owner = 'dead' WHERE id = ANY($1::bigint[])", [[deadOwners, done]]);
      await t.db.query("UPDATE runs SET state = 'completed' WHERE id = $1", [done]);
      await t.db.query("UPDATE runs SET owner = 'vanished' WHERE id = $1", [gone]);
      const search = await t.db.query<{ id: string }>("INSERT INTO searches (kind, pattern, scope, cache_url, state, owner) VALUES ('needle', 'x', '{}', 'file:///x', 'running', 'dead') RETURNING id");
      // The live owner beats past several of its stale limits while sweeping: its run stays running.
      const first = (await t.db.query<{ at: Date }>('SELECT heartbeat_at AS at FROM process_owners WHERE owner = $1', [live.id])).rows[0]?.at.getTime() ?? 0;
      await waitFor('the live owner to beat past its stale limit', async () => (await t.db.query<{ at: Date }>('SELECT heartbeat_at AS at FROM process_owners WHERE owner = $1', [live.id])).rows[0]?.at.getTime() ?? 0, (at) => at > first + 1000);
      expect(await interruptDeadOwners(t.db)).toMatchObject({ runs: 0, searches: 0 });
      const states = async (): Promise<Record<number, string>> =>
        Object.fromEntries((await t.db.query<{ id: string; state: string }>('SELECT id, state FROM runs')).rows.map((r) => [Number(r.id), r.state]));
      expect(await states()).toEqual({ [mine]: 'running', [deadOwners]: 'interrupted', [gone]: 'interrupted', [unowned]: 'running', [done]: 'completed' });
      expect((await t.db.query<{ state: string }>('SELECT state FROM searches WHERE id = $1', [search.rows[0]?.id])).rows[0]?.state).toBe('interrupted');
      expect((await t.db.query('SELECT 1 FROM process_owners WHERE owner = $1', ['dead'])).rows).toHaveLength(0);
      // A clean stop removes the owner: what it still held is interrupted at the next sweep.
      await live.close();
      expect(await interruptDeadOwners(t.db)).toMatchObject({ runs: 1 });
      expect((await states())[mine]).toBe('interrupted');
    } finally {
      await t.drop();
    }
  }, 60_000);

  it('a scan whose run cannot be created or claimed says why, exits, and leaves no owner behind', async () => {
    const t = await freshPostgres();
    try {
      await migrate(t.db);
      const demo = path.join(repo, 'examples', 'demo-cache');
      const env = { ...process.env, ...t.env, VENDORSCAN_HEARTBEAT_MS: '200' };
      const scan = async (): Promise<{ status: number | null; stderr: string }> => {
        // Bounded: a scan that kept its connections or its heartbeat would never exit.
        const child = spawn(process.execPath, [bin, 'scan', '--cache', demo, '--paths', path.join(demo, 'store-paths.txt')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
        const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        clearTimeout(guard);
        return { status, stderr };
      };
      await t.db.exec(`CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'runs refused by the test (%)', TG_OP; END $$;
        CREATE TRIGGER refuse_insert BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION refuse_runs();`);
      const notCreated = await scan();
      expect(notCreated.stderr).toMatch(/runs refused by the test \(INSERT\)/);
      expect(notCreated.status).toBe(1);
      // The run is created, then claiming it (setting its owner) fails: the owner this process registered goes with it.
      await t.db.exec(`DROP TRIGGER refuse_insert ON runs;
        CREATE TRIGGER refuse_owner BEFORE UPDATE OF owner ON runs FOR EACH ROW WHEN (NEW.owner IS NOT NULL) EXECUTE FUNCTION refuse_runs();`);
      const notClaimed = await scan();
      expect(notClaimed.stderr).toMatch(/runs refused by the test \(UPDATE\)/);
      expect(notClaimed.status).toBe(1);
      expect((await t.db.query('SELECT owner FROM process_owners')).rows).toEqual([]);
    } finally {
      await t.drop();
    }
  }, 150_000);
});

describe('retried jobs (L7)', () => {
  it('never rewrite a scanned path as skipped-unchanged', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-retry-'));
    const db = await openResultsStore({ databaseUrl: null, dataDir: dir });
    const storePath = addToStore('retry-once-1.0', { 'f.txt': 'x\n' });
    const runId = await createRun(db, { source: { kind: 'paths', label: 'x' }, cacheUrl: 'file:///x', rulesetDigest: 'd' });
    const scanned = { storePath, status: 'scanned' as const, narHash: 'sha256:abc', narSize: 10, downloadedBytes: 5, narBytes: 10, files: 1, findings: [], durationMs: 1 };
    await recordPathResult(db, runId, 'd', scanned);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM nar_scans');
    // The retry after kill -9 finds the NAR scan the first try stored, and links it.
    await recordSettledResults(db, runId, [{ ...scanned, linkedNarScan: Number(rows[0]?.id) }]);
    const status = await db.query<{ status: string }>('SELECT status FROM run_paths WHERE run_id = $1', [runId]);
    await db.close();
    expect(status.rows.map((r) => r.status)).toEqual(['scanned']);
  });
});
