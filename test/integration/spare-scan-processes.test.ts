// Issue 11, emergency search start-up: the service keeps a scan process forked and loaded ahead of
// need, so a search's isolated pool starts without a Node start-up. Real processes, a real NAR
// made by Nix: the spare is taken (no new fork), scans, and is replaced; a spare never keeps its
// parent alive; the last release stops them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
});
