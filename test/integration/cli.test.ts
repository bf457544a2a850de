// The `vendorscan scan` command as a user runs it: the README's first command on the bundled demo
// cache, JSON lines, a channel's store-paths.xz over HTTP, stdin, and bad arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');
const demo = path.join(repo, 'examples', 'demo-cache');
// Each test file keeps its results store apart from the repository's.
const dataDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-cli-data-'));

function vendorscan(args: string[], options: { input?: string; env?: Record<string, string> } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', input: options.input ?? '', env: { ...process.env, VENDORSCAN_DATA_DIR: dataDir, ...options.env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** For tests whose server runs in this process: spawnSync would block it. */
function vendorscanAsync(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, VENDORSCAN_DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('vendorscan scan', () => {
  it("runs the README's first command on the demo cache", () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const command = /npx vendorscan (scan [^\n]*demo-cache[^\n]*)/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const r = vendorscan(command!.split(' '));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/libwebp\s+1\.2\.4\s+high\s+no \(own\)\s+copy\s+\/nix\/store\/[0-9a-z]{32}-libwebp-1\.2\.4\/lib\/libwebp\.so\.7/);
    expect(r.stdout).toMatch(/libpng\s+1\.6\.39\s+high/);
    expect(r.stdout).not.toMatch(/demo-docs/);
    expect(r.stderr).toMatch(/Scanned 3 of 3 store paths .* 0 not in cache, 0 failed, 2 findings/);
  });

  it('writes one JSON finding per line', () => {
    const paths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8');
    const r = vendorscan(['scan', '--cache', `file://${demo}`, '--paths', '-', '--format', 'jsonl'], { input: paths });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => `${l['library']}@${l['version']}`).sort()).toEqual(['libpng@1.6.39', 'libwebp@1.2.4']);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['storePath', 'file', 'rule', 'library', 'version', 'confidence', 'vendored', 'linkage', 'linkageReason', 'matches']));
    // Each is the library itself (its DT_SONAME).
    expect(lines.map((l) => l['linkage'])).toEqual(['copy', 'copy']);
    // Both are the libraries' own packages.
    expect(lines.map((l) => l['vendored'])).toEqual([false, false]);
    // Every finding says which advisories it falls under, and its package from the store path name.
    const webp = lines.find((l) => l['library'] === 'libwebp');
    expect(webp).toMatchObject({ pname: 'libwebp', packageVersion: '1.2.4', advisories: ['CVE-2023-1999', 'CVE-2023-4863'] });
  });

  it('searches ad hoc with a needle in every file, text included', () => {
    const paths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').trim().split('\n');
    const r = vendorscan(['scan', '--cache', demo, ...paths.flatMap((p) => ['--path', p]), '--needle', 'libpng version 1.6.39', '--format', 'jsonl']);
    expect(r.code).toBe(0);
    const files = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file).sort();
    expect(files).toEqual(['lib/libpng16.so.16', 'share/doc/README']);
  });

  describe('--channel', () => {
    let server: StaticServer;
    beforeAll(async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'vendorscan-channels-'));
      mkdirSync(path.join(root, 'nixos-test'));
      writeFileSync(path.join(root, 'nixos-test', 'store-paths.xz'), execFileSync('xz', ['-c'], { input: readFileSync(path.join(demo, 'store-paths.txt')) }));
      server = await serveDirectory(root);
    });
    afterAll(() => server.close());
    it("scans every path of a channel's store-paths.xz", async () => {
      const r = await vendorscanAsync(['scan', '--cache', demo, '--channel', 'nixos-test', '--format', 'jsonl'], { VENDORSCAN_CHANNELS_URL: server.url });
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
      expect(server.requests).toContain('/nixos-test/store-paths.xz');
    });
  });

  it('refuses bad arguments with exit code 2 and says what was wrong', () => {
    expect(vendorscan(['scan'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/nothing to scan/) });
    expect(vendorscan(['scan', '--path', '/nix/store/00000000000000000000000000000000-x', '--format', 'xml'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format must be one of table, jsonl, csv, markdown, sarif, cyclonedx; got "xml"/) });
    expect(vendorscan(['scan', '--path', '/nix/store/00000000000000000000000000000000-x', '--concurrency', '0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--concurrency must be a whole number/) });
    expect(vendorscan(['scan', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/bogus/) });
    expect(vendorscan(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command "frobnicate"/) });
  });

  it('reports an invalid YARA rule with file, line and column, before any download', () => {
    const rule = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-rule-')), 'bad.yar');
    writeFileSync(rule, 'rule bad {\n  strings:\n    $a = "x"\n  condition:\n    $a or\n}\n');
    const r = vendorscan(['scan', '--cache', demo, '--path', '/nix/store/00000000000000000000000000000000-x', '--rule', rule]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${rule}:6:1: syntax error`);
    // The store was opening meanwhile: it is closed again, its lock given back.
    expect(existsSync(path.join(dataDir, 'pgdata.lock'))).toBe(false);
  });

  it('refuses a string that is not a store path with exit code 2, naming it', () => {
    const r = vendorscan(['scan', '--cache', demo, '--path', '/nix/store/00000000000000000000000000000000-absent-1.0', '--path', 'not/a/store/path']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--path: "not\/a\/store\/path" is not a store path/);
    const list = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-list-')), 'paths.txt');
    writeFileSync(list, '# a list\n/nix/store/00000000000000000000000000000000-absent-1.0\n/nix/store/foo\n');
    expect(vendorscan(['scan', '--cache', demo, '--paths', list])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--paths .*paths\.txt line 3: "\/nix\/store\/foo" is not a store path/) });
  });

  it('keeps the run, and `vendorscan query` answers from it', () => {
    const paths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').trim().split('\n');
    const scan = vendorscan(['scan', '--cache', demo, ...paths.flatMap((p) => ['--path', p])]);
    expect(scan.stderr).toMatch(/Stored as run \d+ \(a library scan\) in embedded PostgreSQL/);
    const own = vendorscan(['query', '--library', 'libwebp', '--version', '<1.3.2', '--all']);
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/1 copy of libwebp <1\.3\.2/);
    expect(own.stdout).toMatch(/1\.2\.4\s+high\s+no \(own\)\s+copy\s+libwebp 1\.2\.4\s+\/nix\/store\/[0-9a-z]{32}-libwebp-1\.2\.4\/lib\/libwebp\.so\.7/);
    expect(own.stdout).toMatch(/libwebp-1\.2\.4\/lib\/libwebp\.so\.7\s+CVE-2023-1999,CVE-2023-4863\n/);
    const vendoredOnly = vendorscan(['query', '--library', 'libwebp', '--version', '<1.3.2']);
    expect(vendoredOnly.stdout).toMatch(/0 vendored copies of libwebp/);
    // Hidden own-package copies are counted, with the flag that shows them.
    expect(vendoredOnly.stdout).toMatch(/1 copy in libwebp's own packages not shown: add --all/);
    expect(vendorscan(['query', '--library', 'libwebp', '--version', '<<1'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--version: "<<1"/) });
  });
});
