// Issue 11, emergency search start-up: the service keeps a scan process forked and loaded ahead of
// need, so a search's isolated pool starts without a Node start-up. Real processes, a real NAR
// made by Nix: the spare is taken (no new fork), scans, and is replaced; a spare never keeps its
// parent alive; the last release stops them; a scan process whose parent is killed -9 while
// YARA-X runs a runaway rule ends itself.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { retainSpareScanProcesses, ScanThreadPool, spareScanProcesses } from '../../scanner/scan-thread-pool.ts';
import { needleRule } from '../../yara/rule-source.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
let release: (() => void) | null = null;
afterAll(() => release?.());

describe('spare scan processes', () => {
  it('a search pool takes the spare, finds its match, and a new spare replaces it', async () => {
    const storePath = addToStore('spare-1.0', { 'f.txt': 'the spare sparemark\n' });
    const cacheUrl = `file://${makeBinaryCache([storePath], 'xz')}`;
    release = retainSpareScanProcesses(1);
    await waitFor('a loaded spare', async () => spareScanProcesses(), (s) => s.ready === 1, 60_000);
    const config = { cacheUrl, cacheOptions: {}, ruleSources: [needleRule('sparemark', 0)], binaryOnly: false, matchOptions: {}, decompress: {}, fileTimeoutMs: 30_000 };
    const pool = await ScanThreadPool.start(config, 1);
    try {
      // Taken: none left until the replacement is forked.
      expect(spareScanProcesses().forked).toBe(0);
      const result = await pool.scan(storePath);
      expect(result.status).toBe('scanned');
      expect(result.findings.map((f) => f.file)).toEqual(['f.txt']);
    } finally {
      await pool.close();
    }
    await waitFor('a replacement spare', async () => spareScanProcesses(), (s) => s.ready === 1, 60_000);
    release();
    release = null;
    expect(spareScanProcesses().forked).toBe(0);
  }, 120_000);

  it('never keeps its parent process alive', () => {
    // A process that retains a spare and never releases it must still exit on its own.
    const script = `import { retainSpareScanProcesses, spareScanProcesses } from ${JSON.stringify(path.join(repo, 'scanner', 'scan-thread-pool.ts'))};
retainSpareScanProcesses(1);
const t = setInterval(() => { if (spareScanProcesses().ready === 1) { clearInterval(t); console.log('ready'); } }, 20);`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vs-spare-')), 'parent.mjs');
    writeFileSync(file, script);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe('ready');
  }, 90_000);

  it('a scan process stuck in a runaway rule ends itself when its pool process is killed -9', async () => {
    // 2 MB of "A": `{ 41 [0-] 42 }` takes hours over it, and the event loop cannot see 'disconnect'.
    const bait = addToStore('orphan-bait-1.0', { 'big.bin': Buffer.alloc(2 * 1024 * 1024, 0x41) });
    const cacheUrl = `file://${makeBinaryCache([bait], 'xz')}`;
    const script = `import { ScanThreadPool } from ${JSON.stringify(path.join(repo, 'scanner', 'scan-thread-pool.ts'))};
const pool = await ScanThreadPool.start({ cacheUrl: ${JSON.stringify(cacheUrl)}, cacheOptions: {}, ruleSources: [{ origin: 'runaway', text: 'rule b { strings: $a = { 41 [0-] 42 } condition: $a }' }], binaryOnly: false, matchOptions: {}, decompress: {}, fileTimeoutMs: 3600000 }, 1);
void pool.scan(${JSON.stringify(bait)});
setInterval(() => {}, 1000);`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vs-orphan-')), 'pool.mjs');
    writeFileSync(file, script);
    const parent = spawn(process.execPath, [file], { stdio: 'ignore' });
    const children = (): number[] => {
      const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(parent.pid)], { encoding: 'utf8' });
      return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
    };
    // CPU ticks of a process (utime + stime): rising once it is deep in the rule.
    const ticks = (pid: number): number => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return Number(f[11]) + Number(f[12]);
      } catch {
        return -1;
      }
    };
    let child: number | undefined;
    try {
      [child] = await waitFor('the scan process to be matching', async () => children(), (c) => c.length === 1 && ticks(c[0] ?? 0) > 200, 60_000);
      parent.kill('SIGKILL');
      // Before the watcher it spun on, orphaned, for hours.
      await waitFor('the orphaned scan process to end', async () => existsSync(`/proc/${child}`), (alive) => !alive, 30_000);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      for (const c of [...children(), ...(child !== undefined && existsSync(`/proc/${child}`) ? [child] : [])]) process.kill(c, 'SIGKILL');
    }
  }, 120_000);
});
