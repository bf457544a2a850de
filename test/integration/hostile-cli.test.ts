// Issue 13 from the command line: `scan --rule` refuses include unless --allow-include and slow
// rules unless --force (then each file is time-limited); `vendorscan search cancel`; `serve`
// stops on SIGTERM even while a runaway rule is matching (H1, H2).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePort } from '../helpers/free-port.ts';
import { openResultsStore } from '../../store/migrate.ts';
import { createSearch } from '../../store/searches.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');
const work = mkdtempSync(path.join(tmpdir(), 'vendorscan-hostile-cli-'));
let cacheDir: string;
let bait: string;
let plain: string;

function vendorscan(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, VENDORSCAN_DATA_DIR: path.join(work, 'data'), ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function rule(name: string, text: string): string {
  const file = path.join(work, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  bait = addToStore('cli-runaway-bait-1.0', { 'big.bin': Buffer.alloc(2 * 1024 * 1024, 0x41), 'small.txt': 'xx hellomark xx\n' });
  plain = addToStore('cli-plain-1.0', { 'f.txt': 'plain hellomark\n' });
  cacheDir = makeBinaryCache([bait, plain], 'xz');
}, 120_000);

describe('scan --rule', () => {
  it('refuses include without --allow-include, and does not read the file', () => {
    const r = vendorscan(['scan', '--cache', cacheDir, '--path', plain, '--no-store', '--rule', rule('inc.yar', 'include "/etc/passwd"\nrule d { strings: $a = "x" condition: $a }\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/inc\.yar:1:1: include statements not allowed/);
    expect(r.stderr).not.toMatch(/root:/);
  });

  it('follows include with --allow-include', () => {
    const inner = rule('inner.yar', 'rule inner { strings: $a = "hellomark" condition: $a }\n');
    const outer = rule('outer.yar', `include "${inner}"\nrule outer { condition: inner }\n`);
    const r = vendorscan(['scan', '--cache', cacheDir, '--path', plain, '--no-store', '--format', 'jsonl', '--rule', outer, '--allow-include']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"rule":"inner"/);
  });

  it('refuses a rule YARA-X flags as slow unless --force; forced, a file past the time limit is given up and the other files are matched', () => {
    const slow = rule('slow.yar', 'rule b { strings: $a = { 41 [0-] 42 } $m = "hellomark" condition: $a or $m }\n');
    const refused = vendorscan(['scan', '--cache', cacheDir, '--path', bait, '--no-store', '--rule', slow]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/slow\.yar:1:\d+: slow pattern/);
    expect(refused.stderr).toMatch(/--force/);
    const forced = vendorscan(['scan', '--cache', cacheDir, '--path', bait, '--path', plain, '--no-store', '--format', 'jsonl', '--rule', slow, '--force'], { VENDORSCAN_FILE_TIMEOUT_MS: '300' });
    expect(forced.code).toBe(0);
    const files = forced.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { storePath: string; file: string }).file).sort();
    expect(files).toEqual(['f.txt', 'small.txt']);
  });
});

describe('vendorscan search', () => {
  it('cancel ID cancels a running search; show ID says so', async () => {
    const env = { VENDORSCAN_DATA_DIR: path.join(work, 'search-data') };
    const db = await openResultsStore({ databaseUrl: null, dataDir: env.VENDORSCAN_DATA_DIR });
    const id = await createSearch(db, { kind: 'needle', pattern: 'hellomark', scope: { paths: [bait, plain] }, cacheUrl: `file://${cacheDir}` });
    await db.close();
    const r = vendorscan(['search', 'cancel', String(id)], env);
    expect(r.stdout).toBe(`Search ${id} cancelled.\n`);
    expect(r.code).toBe(0);
    const show = vendorscan(['search', 'show', String(id)], env);
    expect(show.stdout).toMatch(new RegExp(`Search ${id} \\(needle\\): cancelled; 0 scanned, 0 not in cache, 2 failed, 0 timed out, 0 pending of 2`));
    expect(show.stdout).toMatch(/search cancelled/);
    expect(vendorscan(['search', 'cancel', 'x1'], env).code).toBe(2);
  });
});

describe('serve and SIGTERM', () => {
  it('exits after SIGTERM while a runaway rule is matching', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'serve', '--port', String(port)], {
      cwd: repo,
      env: { ...process.env, VENDORSCAN_DATA_DIR: path.join(work, 'serve-data'), VENDORSCAN_CACHE: `file://${cacheDir}`, VENDORSCAN_API_TOKEN: 't0k', VENDORSCAN_FILE_TIMEOUT_MS: '3600000', VENDORSCAN_SHUTDOWN_GRACE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('serve to listen', async () => stderr, (s) => s.includes('vendorscan API on'), 60_000);
    const base = `http://127.0.0.1:${port}`;
    const r = await fetch(`${base}/v1/searches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t0k' },
      body: JSON.stringify({ rule: 'rule b { strings: $a = { 41 [0-] 42 } condition: $a }', paths: [bait], force: true }),
    });
    expect(r.status).toBe(202);
    const id = ((await r.json()) as { id: number }).id;
    // The runaway match has begun when the search has been running for a moment with its path pending.
    await waitFor('the search to run', async () => (await (await fetch(`${base}/v1/searches/${id}`)).json()) as { state: string; pending: number }, (s) => s.state === 'running' && s.pending === 1);
    child.kill('SIGTERM');
    const code = await exited;
    expect(stderr).toMatch(/SIGTERM, stopping/);
    expect(code).not.toBeNull();
  }, 120_000);
});

