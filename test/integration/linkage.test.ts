// Linkage through the real pipeline: real Debian binaries added to the Nix store, a file:// cache
// written by `nix copy`, `vendorscan scan` and `vendorscan query` as a user runs them.
// osslsigncode NEEDs libcrypto.so.3 and libssl.so.3 and carries OpenSSL's header version string;
// before linkage evidence it was reported as a vendored OpenSSL 3.0.x copy (issue 14).
//
// Needs the Debian packages osslsigncode, libssl3 and libssl-dev, zlib1g-dev; skipped (naming
// them) when a file is missing.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';

const LIB = '/usr/lib/x86_64-linux-gnu';
const FILES = ['/usr/bin/osslsigncode', `${LIB}/libcrypto.so.3`, `${LIB}/libcrypto.a`, `${LIB}/libz.a`];
const absent = FILES.filter((f) => !existsSync(f));
if (absent.length) console.warn(`skipping linkage pipeline tests: missing ${absent.join(', ')} (apt-get install osslsigncode libssl3 libssl-dev zlib1g-dev)`);

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');

interface Row {
  storePath: string;
  file: string;
  library: string;
  version: string | null;
  vendored: boolean;
  linkage: string;
  linkageReason: string;
}

describe.skipIf(absent.length > 0)('linkage through scan and query', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-linkage-data-'));
  const run = (args: string[], data = dataDir): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, VENDORSCAN_DATA_DIR: data }, timeout: 180_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const jsonl = (text: string): Row[] => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  let cache = '';
  let osslsigncode = '';
  let openssl = '';
  let zlibStatic = '';

  it('scans osslsigncode as built against OpenSSL, libcrypto.so.3 and the static archives as copies', () => {
    const read = (f: string): Buffer => readFileSync(f);
    osslsigncode = addToStore('osslsigncode-2.5', { bin: { osslsigncode: { exec: read('/usr/bin/osslsigncode') } } });
    openssl = addToStore('openssl-3.0.13', { lib: { 'libcrypto.so.3': read(`${LIB}/libcrypto.so.3`), 'libcrypto.a': read(`${LIB}/libcrypto.a`) } });
    zlibStatic = addToStore('zlib-static-1.2.13', { lib: { 'libz.a': read(`${LIB}/libz.a`) } });
    cache = makeBinaryCache([osslsigncode, openssl, zlibStatic], 'zstd');
    // The table shows the linkage column too.
    const table = run(['scan', '--cache', cache, '--path', osslsigncode]);
    expect(table.stdout).toMatch(/LINKAGE/);
    expect(table.stdout).toMatch(/openssl\s+3\.\S+\s+high\s+built-against\s+\/nix\/store\/\S+-osslsigncode-2\.5\/bin\/osslsigncode/);
    // The latest run (what query answers from) covers all three.
    const r = run(['scan', '--cache', cache, '--path', osslsigncode, '--path', openssl, '--path', zlibStatic, '--format', 'jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonl(r.stdout);
    const of = (storePath: string, file: string, library: string): Row | undefined => rows.find((x) => x.storePath === storePath && x.file === file && x.library === library);
    // The header string is still found, and kept: but as what it is.
    expect(of(osslsigncode, 'bin/osslsigncode', 'openssl')).toMatchObject({ version: expect.stringMatching(/^3\./) as unknown as string, linkage: 'built-against', linkageReason: expect.stringMatching(/^NEEDs lib(ssl|crypto)\.so\.3$/) as unknown as string });
    expect(of(openssl, 'lib/libcrypto.so.3', 'openssl')).toMatchObject({ linkage: 'copy', linkageReason: 'is the library itself (DT_SONAME libcrypto.so.3)', vendored: false });
    expect(of(openssl, 'lib/libcrypto.a', 'openssl')).toMatchObject({ linkage: 'copy', linkageReason: expect.stringMatching(/^archive member \S+ defines \w+$/) as unknown as string });
    expect(of(zlibStatic, 'lib/libz.a', 'zlib')).toMatchObject({ linkage: 'copy', vendored: true });
  }, 240_000);

  it('query leaves built-against findings out of vendored answers, and shows them with --linkage', () => {
    const copies = run(['query', '--library', 'openssl', '--all', '--format', 'jsonl']);
    expect(copies.code, copies.stderr).toBe(0);
    const files = (rows: Row[]): string[] => rows.map((x) => `${path.basename(x.storePath).slice(33)}/${x.file}`).sort();
    expect(files(jsonl(copies.stdout))).toEqual(['openssl-3.0.13/lib/libcrypto.a', 'openssl-3.0.13/lib/libcrypto.so.3']);
    // Vendored answers (the default): osslsigncode is not a vendored OpenSSL.
    const vendored = run(['query', '--library', 'openssl', '--format', 'jsonl']);
    expect(jsonl(vendored.stdout)).toEqual([]);
    const linked = run(['query', '--library', 'openssl', '--linkage', 'built-against', '--format', 'jsonl']);
    expect(jsonl(linked.stdout).map((x) => [x.file, x.linkage])).toEqual([['bin/osslsigncode', 'built-against']]);
    const any = run(['query', '--library', 'openssl', '--all', '--linkage', 'any']);
    expect(any.stdout).toMatch(/^Run \d+: 3 copies of or built against openssl/);
    expect(any.stdout).toMatch(/built-against\s+\/nix\/store\/\S+-osslsigncode-2\.5\/bin\/osslsigncode/);
    const bad = run(['query', '--library', 'openssl', '--linkage', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--linkage must be any, copy, built-against, unknown, got "maybe"/);
  }, 120_000);

  it('a file read in windows is unknown, and kept as a possible copy', () => {
    // A store of its own: the first one would link the unchanged NAR's stored findings.
    const r = run(['scan', '--cache', cache, '--path', osslsigncode, '--max-file-size', '65536', '--window-size', '65536', '--format', 'jsonl'], mkdtempSync(path.join(tmpdir(), 'vendorscan-linkage-windowed-')));
    expect(r.code, r.stderr).toBe(0);
    expect(jsonl(r.stdout).find((x) => x.library === 'openssl')).toMatchObject({ linkage: 'unknown', linkageReason: expect.stringMatching(/scanned in windows/) as unknown as string });
  }, 120_000);
});
