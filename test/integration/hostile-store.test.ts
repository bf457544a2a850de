// Issue 13, the results store: H5 (two processes on one embedded data dir fail at once, naming the
// pid, instead of corrupting it), M8 (a scan killed with -9 leaves its run `interrupted`, and
// `scan --resume RUN` finishes it), L7 (a retried job never rewrites a scanned path as unchanged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../store/database.ts';
import { openResultsStore } from '../../store/migrate.ts';
import { createRun, recordPathResult, recordSettledResults } from '../../store/runs.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';

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
    // No re-exec (bin/vendorscan.mjs restarts itself with --liftoff-only): kill -9 must hit the process that scans.
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
