// Copies one container deeper, through the real data path: real Debian libraries packed into a
// jar, a nested zip, a tar.gz, a tar.xz, a tar.bz2 and a wheel by the real tools (zip, jar, tar,
// xz, bzip2, Python's zipfile),
// added to the store and copied to a binary cache by real Nix, then scanned with the bundled
// signatures. Hostile archives (a zip bomb, an asar whose header lies) become per-file warnings on
// the store path while the rest of it is still scanned, in bounded memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { runScan } from '../../scanner/scan.ts';
import { scanStorePath } from '../../scanner/scan-store-path.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { loadSignatures, ruleMetas } from '../../signatures/loader.ts';
import { fileFindings } from '../../signatures/file-findings.ts';
import { compileRules } from '../../yara/rules.ts';
import { FileMatcher } from '../../yara/file-matcher.ts';
import { openBinaryCache } from '../../cache/open.ts';
import { needleRule } from '../../yara/rule-source.ts';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';
import { narScanWarnings } from '../../store/runs.ts';

const LIB = '/usr/lib/x86_64-linux-gnu';
const LIBPNG = `${LIB}/libpng16.so.16`; // Debian bookworm: libpng 1.6.39
const ZLIB = `${LIB}/libz.so.1`; // zlib 1.2.13
const signatures = loadSignatures();
let work: string;
let cacheDir: string;
const paths = { java: '', nested: '', tarball: '', hostile: '' };

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A folder of files (copied from the system) to pack. */
function stage(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(work, name);
  for (const [rel, from] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    if (typeof from === 'string') copyFileSync(from, path.join(dir, rel));
    else writeFileSync(path.join(dir, rel), from);
  }
  return dir;
}

/** An asar as @electron/asar lays it out (Chromium Pickle header), its entry's offset past the data. */
function lyingAsar(): Buffer {
  const json = Buffer.from(JSON.stringify({ files: { 'lib.node': { size: 4096, offset: '999999999' } } }));
  const pickle = Buffer.alloc(16 + json.length + ((4 - (json.length % 4)) % 4));
  pickle.writeUInt32LE(4, 0);
  pickle.writeUInt32LE(pickle.length - 8, 4);
  pickle.writeUInt32LE(pickle.length - 12, 8);
  pickle.writeUInt32LE(json.length, 12);
  json.copy(pickle, 16);
  return Buffer.concat([pickle, Buffer.alloc(64)]);
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'vendorscan-archives-'));
  // A jar with JNA-style natives (jar writes data descriptors) and a text file naming a version.
  const jarDir = stage('jar', {
    'natives/libpng16.so.16': LIBPNG,
    'META-INF/NOTICE.txt': Buffer.from('bundles libpng version 1.6.40 and zlib 1.3.1\n'),
  });
  run('jar', ['--create', '--file', path.join(work, 'app.jar'), '-C', jarDir, '.'], work);
  // The same jar behind a launcher script (`#!/bin/sh … exec java -jar "$0"`), offsets fixed by zip -A.
  run('sh', ['-c', 'printf "#!/bin/sh\\nexec java -jar \\"\\$0\\" \\"\\$@\\"\\n" | cat - app.jar > app-launcher && zip -qA app-launcher'], work);
  // A zip holding a jar holding zlib: two levels.
  const innerDir = stage('inner', { 'lib/libz.so.1': ZLIB });
  run('zip', ['-qr', path.join(work, 'inner.jar'), '.'], innerDir);
  const outerDir = stage('outer', { 'plugins/inner.jar': path.join(work, 'inner.jar') });
  run('zip', ['-qr', path.join(work, 'bundle.zip'), '.'], outerDir);
  // A gzip'd tar and a wheel written by Python's zipfile.
  const tarDir = stage('tar', { 'usr/lib/libpng16.so.16': LIBPNG });
  run('tar', ['czf', path.join(work, 'natives.tar.gz'), '-C', tarDir, '.'], work);
  // tar.xz and tar.bz2 (node:zlib reads neither: the scanner gives the walker decoders).
  const xzDir = stage('tar-xz', { 'usr/lib/libz.so.1': ZLIB });
  run('tar', ['cJf', path.join(work, 'natives.tar.xz'), '-C', xzDir, '.'], work);
  run('tar', ['cjf', path.join(work, 'natives.tar.bz2'), '-C', tarDir, '.'], work);
  // An xz bomb: 64 MiB of zeros in a tar, xz -9 (about 10 KB).
  run('sh', ['-c', 'head -c 67108864 /dev/zero > zeros && tar cf - zeros | xz -9 > bomb.tar.xz && rm zeros'], work);
  run('python3', ['-c', `import zipfile; z = zipfile.ZipFile(${JSON.stringify(path.join(work, 'mod.whl'))}, 'w', zipfile.ZIP_DEFLATED); z.write(${JSON.stringify(ZLIB)}, 'mod/.libs/libz.so.1'); z.close()`], work);
  // Zip bombs: 100 MiB of zeros in one member (about 1000:1, under the member cap), and 256 MiB
  // (a member claiming more than the member cap).
  const zeros = (name: string, mib: number): void =>
    run('python3', ['-c', `import zipfile
z = zipfile.ZipFile(${JSON.stringify(path.join(work, name))}, 'w', zipfile.ZIP_DEFLATED)
with z.open('zeros.bin', 'w', force_zip64=True) as f:
    block = bytes(1 << 20)
    for _ in range(${mib}): f.write(block)
z.close()`], work);
  zeros('bomb.zip', 100);
  zeros('huge.zip', 256);

  paths.java = addToStore('java-app-1.0', {
    share: { 'app.jar': readFileSync(path.join(work, 'app.jar')) },
    bin: { app: readFileSync(path.join(work, 'app-launcher')) },
  });
  paths.nested = addToStore('plugin-host-2.0', { share: { 'bundle.zip': readFileSync(path.join(work, 'bundle.zip')) } });
  paths.tarball = addToStore('py-tool-3.0', {
    share: {
      'natives.tar.gz': readFileSync(path.join(work, 'natives.tar.gz')),
      'natives.tar.xz': readFileSync(path.join(work, 'natives.tar.xz')),
      'natives.tar.bz2': readFileSync(path.join(work, 'natives.tar.bz2')),
    },
    lib: { 'mod.whl': readFileSync(path.join(work, 'mod.whl')) },
  });
  paths.hostile = addToStore('electron-app-4.0', {
    resources: {
      'app.asar': lyingAsar(),
      'bomb.zip': readFileSync(path.join(work, 'bomb.zip')),
      'huge.zip': readFileSync(path.join(work, 'huge.zip')),
      'app.jar': readFileSync(path.join(work, 'app.jar')),
      'bomb.tar.xz': readFileSync(path.join(work, 'bomb.tar.xz')),
    },
    // As kernel modules are shipped: xz of an ELF, no tar: peeked at, not opened, nothing to say.
    lib: { modules: { 'zlib.ko.xz': execFileSync('xz', ['-c', ZLIB]), 'png.ko.xz': execFileSync('xz', ['-c', LIBPNG]) } },
  });
  cacheDir = makeBinaryCache(Object.values(paths), 'xz');
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

async function scanAll(): Promise<Map<string, PathResult>> {
  const results = new Map<string, PathResult>();
  const summary = await runScan({
    cacheUrl: `file://${cacheDir}`,
    cacheOptions: { retries: 1, timeoutMs: 10_000 },
    ruleSources: signatures.sources,
    binaryOnly: true,
    matchOptions: {},
    decompress: {},
    paths: Object.values(paths),
    concurrency: 2,
    threads: 1,
    onResult: (r) => results.set(r.storePath, r),
  });
  expect(summary.scanned).toBe(4);
  expect(summary.warnings.map((w) => w.storePath)).toEqual([paths.hostile]);
  return results;
}

const copies = (r: PathResult | undefined): string[] => (r?.findings ?? []).map((f) => `${f.file} ${f.library}@${f.version ?? '?'}`).sort();

describe('library copies inside archives, in real Nix-made NARs', () => {
  let results: Map<string, PathResult>;
  beforeAll(async () => {
    results = await scanAll();
  }, 120_000);

  it('names a .so inside a jar as jar!/member, with its version; the text member never counts', () => {
    expect(copies(results.get(paths.java))).toEqual([
      'bin/app!/natives/libpng16.so.16 libpng@1.6.39',
      'share/app.jar!/natives/libpng16.so.16 libpng@1.6.39',
    ]);
    expect(results.get(paths.java)?.warnings).toBeUndefined();
  });

  it('opens a jar inside a zip (two levels)', () => {
    expect(copies(results.get(paths.nested))).toEqual(['share/bundle.zip!/plugins/inner.jar!/lib/libz.so.1 zlib@1.2.13']);
  });

  it('reads a tar.gz, a tar.xz, a tar.bz2 and a wheel', () => {
    expect(copies(results.get(paths.tarball))).toEqual([
      'lib/mod.whl!/mod/.libs/libz.so.1 zlib@1.2.13',
      'share/natives.tar.bz2!/usr/lib/libpng16.so.16 libpng@1.6.39',
      'share/natives.tar.gz!/usr/lib/libpng16.so.16 libpng@1.6.39',
      'share/natives.tar.xz!/usr/lib/libz.so.1 zlib@1.2.13',
    ]);
    expect(results.get(paths.tarball)?.warnings).toBeUndefined();
  });

  it('reports a zip bomb, an xz bomb and a lying asar as warnings on the store path, and scans the rest', () => {
    const r = results.get(paths.hostile);
    expect(r?.status).toBe('scanned');
    const warnings = r?.warnings ?? [];
    expect(warnings).toEqual([
      expect.stringMatching(/^resources\/app\.asar: "lib\.node": header says 4096 bytes at offset 999999999, past the \d+ data bytes \(the header lies\); skipped$/),
      expect.stringMatching(/^resources\/bomb\.tar\.xz: xz layer decompresses past \d+ bytes, over 100:1 \(a bomb\); not opened$/),
      expect.stringMatching(/^resources\/bomb\.zip: "zeros\.bin": zip bomb: \d+ compressed bytes claim 104857600 \(\d+:1, over 100:1\); skipped$/),
      expect.stringMatching(/^resources\/huge\.zip: "zeros\.bin": claims 268435456 bytes, over the 134217728-byte member cap; skipped$/),
    ]);
    expect(copies(r)).toEqual(['resources/app.jar!/natives/libpng16.so.16 libpng@1.6.39']);
  });
});

describe('bounds', () => {
  it('a jar larger than the whole-file cap is followed by its local headers, and says so', async () => {
    const results: PathResult[] = [];
    await runScan({
      cacheUrl: `file://${cacheDir}`,
      cacheOptions: { retries: 1, timeoutMs: 10_000 },
      ruleSources: signatures.sources,
      binaryOnly: true,
      matchOptions: { maxWholeFileSize: 64 * 1024, windowSize: 64 * 1024 },
      decompress: {},
      paths: [paths.java],
      concurrency: 1,
      threads: 1,
      onResult: (r) => results.push(r),
    });
    expect(copies(results[0])).toEqual(['share/app.jar!/natives/libpng16.so.16 libpng@1.6.39']);
    expect(results[0]?.warnings).toEqual([expect.stringMatching(/^share\/app\.jar: over 65536 bytes: read as a stream of local headers, without its central directory$/)]);
  }, 60_000);

  it('zip bombs of 100 and 256 MiB in a NAR cost far less than their size', async () => {
    const rules = compileRules(signatures.sources);
    const metas = ruleMetas(signatures.sources);
    const cache = openBinaryCache(`file://${cacheDir}`, { retries: 1, timeoutMs: 10_000 });
    // The process's peak after the scan, against its resident size before: a bound on the scan's
    // memory (an earlier, higher peak can only make this fail, never pass wrongly).
    const before = process.memoryUsage().rss;
    const result = await scanStorePath(paths.hostile, {
      cache,
      matcher: new FileMatcher(rules),
      binaryOnly: true,
      toFindings: (sp, files) => files.flatMap((f) => fileFindings(sp, f.file, f.hits, metas)),
    });
    await cache.close();
    const grown = process.resourceUsage().maxRSS * 1024 - before;
    expect(result.status).toBe('scanned');
    expect(result.findings.map((f) => f.file)).toContain('resources/app.jar!/natives/libpng16.so.16');
    expect(grown).toBeLessThan(128 * 1024 * 1024);
  }, 60_000);

  it('an ad-hoc search looks in every member, text included', async () => {
    const results: PathResult[] = [];
    await runScan({
      cacheUrl: `file://${cacheDir}`,
      cacheOptions: { retries: 1, timeoutMs: 10_000 },
      ruleSources: [needleRule('bundles libpng version 1.6.40', 1)],
      binaryOnly: false,
      matchOptions: {},
      decompress: {},
      paths: [paths.java],
      concurrency: 1,
      threads: 1,
      onResult: (r) => results.push(r),
    });
    expect(results[0]?.findings.map((f) => f.file)).toEqual(['bin/app!/META-INF/NOTICE.txt', 'share/app.jar!/META-INF/NOTICE.txt']);
  }, 60_000);
});

describe('per-file warnings are stored and shown', () => {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshPostgres();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const cli = (): { code: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'vendorscan.mjs'), 'scan', '--cache', `file://${cacheDir}`, '--path', paths.hostile, '--path', paths.java], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, ...database.env },
      timeout: 120_000,
    });
    return { code: r.status, stderr: r.stderr };
  };

  it('in the CLI summary, in the store (kept when an unchanged path is linked) and in GET /v1/scans/:id', async () => {
    const first = cli();
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/Warnings \(\d+ in 1 scanned store path; the rest of each was scanned\):/);
    expect(first.stderr).toContain(`  ${paths.hostile}:\n    resources/`);
    expect(first.stderr).toMatch(/^ {4}resources\/bomb\.zip: "zeros\.bin": zip bomb: /m);
    // The second run links the stored NAR scan instead of downloading: its warnings come along.
    const second = cli();
    expect(second.stderr).toMatch(/2 reused unchanged/);
    expect(second.stderr).toMatch(/^ {4}resources\/app\.asar: /m);
    const stored = await database.db.query<{ id: string }>('SELECT id FROM nar_scans ORDER BY id');
    const all = await Promise.all(stored.rows.map((r) => narScanWarnings(database.db, Number(r.id))));
    expect(all.filter((w) => w.length > 0)).toHaveLength(1);

    const runtime = await openRuntime(loadConfig({ ...database.env, VENDORSCAN_CACHE: `file://${cacheDir}` }), { threads: 1 });
    const app = await buildApi({ ...runtime, apiToken: 'token' });
    try {
      const r = await app.inject({ method: 'GET', url: '/v1/scans/2' });
      expect(r.statusCode).toBe(200);
      const body = r.json() as { warnings: { storePath: string; warnings: string[] }[] };
      expect(body.warnings.map((w) => w.storePath)).toEqual([paths.hostile]);
      expect(body.warnings[0]?.warnings.some((w) => w.startsWith('resources/bomb.zip: "zeros.bin": zip bomb: '))).toBe(true);
    } finally {
      await app.close();
      await runtime.close();
    }
  }, 240_000);
});
