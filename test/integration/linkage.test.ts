// Linkage through the real pipeline: real Debian binaries added to the Nix store, a file:// cache
// written by `nix copy`, `vendorscan scan` and `vendorscan query` as a user runs them.
// osslsigncode NEEDs libcrypto.so.3 and libssl.so.3 and carries OpenSSL's header version string;
// before linkage evidence it was reported as a vendored OpenSSL 3.0.x copy (issue 14).
//
// Needs the Debian packages osslsigncode, libssl3 and libssl-dev, zlib1g-dev; skipped (naming
// them) when a file is missing. The sweep's other suspects join when installed: python3-cryptography,
// openjdk-17-jre-headless, erlang-crypto.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, copyFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { freshPGlite } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait.ts';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';

const LIB = '/usr/lib/x86_64-linux-gnu';
const FILES = ['/usr/bin/osslsigncode', `${LIB}/libcrypto.so.3`, `${LIB}/libcrypto.a`, `${LIB}/libz.a`];
const absent = FILES.filter((f) => !existsSync(f));
if (absent.length) console.warn(`skipping linkage pipeline tests: missing ${absent.join(', ')} (apt-get install osslsigncode libssl3 libssl-dev zlib1g-dev)`);

// The other suspects of the linkage sweep (npm run sweep), each through the same pipeline when its
// package is installed: [store path name, file on this system, path in the store path, library].
const SUSPECTS: [string, string, string, string][] = [
  ['python3-cryptography-38.0.4', '/usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_openssl.abi3.so', 'lib/_openssl.abi3.so', 'openssl'],
  ['openjdk-17-jre-headless-17.0.15', '/usr/lib/jvm/java-17-openjdk-amd64/lib/libfontmanager.so', 'lib/libfontmanager.so', 'freetype'],
  ['erlang-crypto-25.2.3', '/usr/lib/erlang/lib/crypto-5.1.2/priv/lib/crypto.so', 'lib/crypto.so', 'openssl'],
].filter(([, source]) => existsSync(source as string)) as [string, string, string, string][];

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
    const suspects = SUSPECTS.map(([name, source, file, library]) => ({ storePath: addToStore(name, { lib: { [path.basename(file)]: read(source) } }), file, library }));
    cache = makeBinaryCache([osslsigncode, openssl, zlibStatic, ...suspects.map((s) => s.storePath)], 'zstd');
    // The table shows the linkage column too.
    const table = run(['scan', '--cache', cache, '--path', osslsigncode]);
    expect(table.stdout).toMatch(/LINKAGE/);
    expect(table.stdout).toMatch(/openssl\s+3\.\S+\s+high\s+yes\s+built-against\s+\/nix\/store\/\S+-osslsigncode-2\.5\/bin\/osslsigncode/);
    // The latest run (what query answers from) covers all three.
    const r = run(['scan', '--cache', cache, ...[osslsigncode, openssl, zlibStatic, ...suspects.map((s) => s.storePath)].flatMap((p) => ['--path', p]), '--format', 'jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonl(r.stdout);
    const of = (storePath: string, file: string, library: string): Row | undefined => rows.find((x) => x.storePath === storePath && x.file === file && x.library === library);
    // The header string is still found, and kept: but as what it is.
    expect(of(osslsigncode, 'bin/osslsigncode', 'openssl')).toMatchObject({ version: expect.stringMatching(/^3\./) as unknown as string, linkage: 'built-against', linkageReason: expect.stringMatching(/^NEEDs lib(ssl|crypto)\.so\.3$/) as unknown as string });
    expect(of(openssl, 'lib/libcrypto.so.3', 'openssl')).toMatchObject({ linkage: 'copy', linkageReason: 'is the library itself (DT_SONAME libcrypto.so.3)', vendored: false });
    expect(of(openssl, 'lib/libcrypto.a', 'openssl')).toMatchObject({ linkage: 'copy', linkageReason: expect.stringMatching(/^archive member \S+ defines \w+$/) as unknown as string });
    expect(of(zlibStatic, 'lib/libz.a', 'zlib')).toMatchObject({ linkage: 'copy', vendored: true });
    for (const s of suspects) expect(of(s.storePath, s.file, s.library), s.file).toMatchObject({ linkage: 'built-against', linkageReason: expect.stringMatching(/^NEEDs /) as unknown as string });
  }, 240_000);

  it('query leaves built-against findings out of vendored answers, and shows them with --linkage', () => {
    const copies = run(['query', '--library', 'openssl', '--all', '--format', 'jsonl']);
    expect(copies.code, copies.stderr).toBe(0);
    const files = (rows: Row[]): string[] => rows.map((x) => `${path.basename(x.storePath).slice(33)}/${x.file}`).sort();
    expect(files(jsonl(copies.stdout))).toEqual(['openssl-3.0.13/lib/libcrypto.a', 'openssl-3.0.13/lib/libcrypto.so.3']);
    const opensslSuspects = SUSPECTS.filter((s) => s[3] === 'openssl').length;
    // Vendored answers (the default): osslsigncode is not a vendored OpenSSL.
    const vendored = run(['query', '--library', 'openssl', '--format', 'jsonl']);
    expect(jsonl(vendored.stdout)).toEqual([]);
    const linked = run(['query', '--library', 'openssl', '--linkage', 'built-against', '--format', 'jsonl']);
    expect(jsonl(linked.stdout).map((x) => [x.file, x.linkage])).toContainEqual(['bin/osslsigncode', 'built-against']);
    expect(jsonl(linked.stdout)).toHaveLength(1 + opensslSuspects);
    const any = run(['query', '--library', 'openssl', '--all', '--linkage', 'any']);
    expect(any.stdout).toMatch(new RegExp(`^${3 + opensslSuspects} copies of or programs built against openssl`, 'm'));
    expect(any.stdout).toMatch(/built-against\s+osslsigncode 2\.5\s+\/nix\/store\/\S+-osslsigncode-2\.5\/bin\/osslsigncode/);
    const bad = run(['query', '--library', 'openssl', '--linkage', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--linkage must be any, copy, built-against, unknown, got "maybe"/);
  }, 120_000);

  it('the API: linkage on every row, built-against left out of vendors and library counts unless asked for', async () => {
    const pglite = await freshPGlite();
    await pglite.drop();
    let runtime: Runtime | null = null;
    let app: FastifyInstance | null = null;
    try {
      runtime = await openRuntime(loadConfig({ ...pglite.env, VENDORSCAN_CACHE: `file://${cache}` }), { threads: 1 });
      app = await buildApi({ ...runtime, apiToken: 'linkage-token' });
      const api = app;
      const get = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
        const r = await api.inject({ method: 'GET', url });
        return { status: r.statusCode, body: r.json() as Record<string, unknown> };
      };
      const started = await api.inject({ method: 'POST', url: '/v1/scans', payload: { paths: [osslsigncode, openssl] }, headers: { authorization: 'Bearer linkage-token' } });
      const id = (started.json() as { id: number }).id;
      await waitFor('the run', () => get(`/v1/scans/${id}`), (v) => v.body['state'] === 'completed', 180_000);
      const rows = async (query: string): Promise<Row[]> => (await get(`/v1/vendors?library=openssl&vendored=any${query}`)).body['results'] as Row[];
      expect((await rows('')).map((r) => [r.file, r.linkage]).sort()).toEqual([['lib/libcrypto.a', 'copy'], ['lib/libcrypto.so.3', 'copy']]);
      expect((await rows('&linkage=built-against')).map((r) => [r.file, r.linkage, r.linkageReason])).toEqual([['bin/osslsigncode', 'built-against', expect.stringMatching(/^NEEDs /)]]);
      expect(await rows('&linkage=any')).toHaveLength(3);
      expect((await get('/v1/vendors?library=openssl')).body['total']).toBe(0); // vendored copies: none
      const libs = (await get(`/v1/libraries?run=${id}`)).body['libraries'] as { library: string; copies: number; builtAgainst: number }[];
      const counted = libs.filter((l) => l.library === 'openssl');
      expect(counted.reduce((n, l) => n + l.copies, 0)).toBe(2);
      expect(counted.reduce((n, l) => n + l.builtAgainst, 0)).toBe(1);
      const bad = await get('/v1/vendors?library=openssl&linkage=maybe');
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toMatch(/linkage/);
    } finally {
      await app?.close();
      await runtime?.close();
    }
  }, 240_000);

  it.skipIf(spawnSync('zip', ['-v']).status !== 0)('reads the linkage of archive members from their bytes (a jar holding both)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-linkage-jar-'));
    mkdirSync(path.join(dir, 'natives'));
    copyFileSync('/usr/bin/osslsigncode', path.join(dir, 'natives', 'osslsigncode'));
    copyFileSync(`${LIB}/libcrypto.so.3`, path.join(dir, 'natives', 'libcrypto.so.3'));
    execFileSync('zip', ['-q', '-r', path.join(dir, 'app.jar'), 'natives'], { cwd: dir });
    const jarPath = addToStore('jar-app-1.0', { share: { 'app.jar': readFileSync(path.join(dir, 'app.jar')) } });
    const jarCache = makeBinaryCache([jarPath], 'zstd');
    const r = run(['scan', '--cache', jarCache, '--path', jarPath, '--format', 'jsonl'], mkdtempSync(path.join(tmpdir(), 'vendorscan-linkage-jar-data-')));
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonl(r.stdout).filter((x) => x.library === 'openssl').map((x) => [x.file, x.linkage, x.linkageReason]).sort();
    expect(rows).toEqual([
      ['share/app.jar!/natives/libcrypto.so.3', 'copy', 'is the library itself (DT_SONAME libcrypto.so.3)'],
      ['share/app.jar!/natives/osslsigncode', 'built-against', expect.stringMatching(/^NEEDs lib(ssl|crypto)\.so\.3$/)],
    ]);
  }, 180_000);

  it('a file read in windows is unknown, and kept as a possible copy', () => {
    // A store of its own: the first one would link the unchanged NAR's stored findings.
    const r = run(['scan', '--cache', cache, '--path', osslsigncode, '--max-file-size', '65536', '--window-size', '65536', '--format', 'jsonl'], mkdtempSync(path.join(tmpdir(), 'vendorscan-linkage-windowed-')));
    expect(r.code, r.stderr).toBe(0);
    expect(jsonl(r.stdout).find((x) => x.library === 'openssl')).toMatchObject({ linkage: 'unknown', linkageReason: expect.stringMatching(/scanned in windows/) as unknown as string });
  }, 120_000);
});
