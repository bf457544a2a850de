// The whole data path against real Nix-made caches: narinfo → NAR → decompress → parse → match,
// over HTTP on 127.0.0.1 and file://, with every kind of bad input failing only its own path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addToStore, makeBinaryCache, narInfoFile, type Compression } from '../helpers/nix.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { runScan, StartedScanThreads, type ScanSummary } from '../../scanner/scan.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { needleRule, hexRule } from '../../yara/rule-source.ts';

const NEEDLE = 'vendorscan-needle: no memory during frame initialization.';
// A real ELF binary with the needle appended, beside a text file that names it too.
const elf = Buffer.concat([readFileSync('/bin/true'), Buffer.from(`\0${NEEDLE}\0`)]);

let storePaths: { withNeedle: string; plain: string; single: string };
const caches = new Map<Compression, string>();

beforeAll(() => {
  storePaths = {
    withNeedle: addToStore('needle-pkg-1.0', {
      bin: { tool: { exec: elf } },
      share: { doc: { 'README.txt': `mentions ${NEEDLE}\n` } },
      lib: { 'link.so': { link: '../bin/tool' } },
    }),
    plain: addToStore('plain-pkg-2.0', { bin: { ok: { exec: readFileSync('/bin/true') } } }),
    single: addToStore('single-file-0.1', Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.from(NEEDLE)])),
  };
  for (const c of ['xz', 'zstd', 'bzip2', 'none'] as const) caches.set(c, makeBinaryCache(Object.values(storePaths), c));
});

function scanWith(cacheUrl: string, paths: string[], extra: Partial<Parameters<typeof runScan>[0]> = {}): Promise<{ summary: ScanSummary; results: PathResult[] }> {
  const results: PathResult[] = [];
  return runScan({
    cacheUrl,
    cacheOptions: { retries: 1, timeoutMs: 5000 },
    ruleSources: [needleRule(NEEDLE, 1)],
    binaryOnly: false,
    matchOptions: {},
    decompress: {},
    paths,
    concurrency: 2,
    threads: 2,
    onResult: (r) => results.push(r),
    ...extra,
  }).then((summary) => ({ summary, results }));
}

describe('scan over file:// caches in every compression', () => {
  for (const compression of ['xz', 'zstd', 'bzip2', 'none'] as const) {
    it(`finds the needle in every file that holds it (${compression})`, async () => {
      const dir = caches.get(compression)!;
      const { summary, results } = await scanWith(`file://${dir}`, Object.values(storePaths));
      expect(summary.scanned).toBe(3);
      expect(summary.failed).toBe(0);
      const hits = results.flatMap((r) => r.findings.map((f) => `${path.basename(f.storePath)}/${f.file}`)).sort();
      expect(hits).toEqual(
        [
          `${path.basename(storePaths.single)}/`,
          `${path.basename(storePaths.withNeedle)}/bin/tool`,
          `${path.basename(storePaths.withNeedle)}/share/doc/README.txt`,
        ].sort(),
      );
      const tool = results.flatMap((r) => r.findings).find((f) => f.file === 'bin/tool')!;
      const offset = elf.indexOf(NEEDLE);
      expect(tool.matches[0]?.strings[0]).toMatchObject({ offset, length: NEEDLE.length });
      expect(tool.library).toBe('adhoc');
      expect(summary.narBytes).toBeGreaterThan(elf.length);
    });
  }

  it('with library signatures only, skips files that are not binary objects', async () => {
    const { results } = await scanWith(`file://${caches.get('xz')}`, [storePaths.withNeedle], {
      ruleSources: [hexRule(Buffer.from(NEEDLE).toString('hex'), 1)].map((r) => ({ ...r, text: r.text.replace(/library = "adhoc"/, 'library = "needlelib"') })),
      binaryOnly: true,
    });
    expect(results[0]?.findings.map((f) => f.file)).toEqual(['bin/tool']);
  });
});

describe('scan threads started ahead (the CLI starts them while its store opens)', () => {
  const config = (ruleSources = [needleRule(NEEDLE, 1)]) => ({
    cacheUrl: `file://${caches.get('xz')}`,
    cacheOptions: { retries: 1, timeoutMs: 5000 },
    ruleSources,
    binaryOnly: false,
    matchOptions: {},
    decompress: {},
  });

  it('are taken over by the scan, which finds what it would have found and closes them', async () => {
    const started = new StartedScanThreads(config(), 1);
    const { summary, results } = await scanWith(`file://${caches.get('xz')}`, [storePaths.withNeedle, storePaths.plain], { startedThreads: started, threads: 1 });
    expect(summary.scanned).toBe(2);
    expect(results.find((r) => r.storePath === storePaths.withNeedle)?.findings.length).toBeGreaterThan(0);
    await started.release(); // a no-op once taken; the scan closed them
  });

  const osThreads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

  it('are stopped unused, still starting, when every path settles without a download', async () => {
    const before = osThreads();
    const started = new StartedScanThreads(config(), 2);
    expect(osThreads()).toBeGreaterThanOrEqual(before + 2);
    const { summary } = await scanWith(`file://${caches.get('xz')}`, [storePaths.plain], {
      startedThreads: started,
      prepare: async (storePath) => ({ done: { storePath, status: 'scanned', downloadedBytes: 0, narBytes: 0, files: 0, findings: [], durationMs: 0 } }),
    });
    expect(summary).toMatchObject({ scanned: 1, startupMs: 0 });
    expect(osThreads()).toBeLessThanOrEqual(before);
  });

  it('that cannot start fail the scan with the compiler\'s error, and leave no thread behind', async () => {
    const bad = [{ origin: 'broken.yar', text: 'rule broken { condition: nope }' }];
    const before = osThreads();
    const started = new StartedScanThreads(config(bad), 1);
    await expect(scanWith(`file://${caches.get('xz')}`, [storePaths.plain], { startedThreads: started, ruleSources: bad })).rejects.toThrow(/nope/);
    await started.release();
    expect(osThreads()).toBeLessThanOrEqual(before);
  });
});

describe('bad input fails only its own store path, with the reason', () => {
  let broken: string;
  let server: StaticServer;
  beforeAll(async () => {
    broken = mkdtempSync(path.join(tmpdir(), 'vendorscan-broken-'));
    cpSync(caches.get('xz')!, broken, { recursive: true });
    server = await serveDirectory(broken);
  });
  afterAll(async () => {
    await server.close();
    rmSync(broken, { recursive: true, force: true });
  });

  function editNarInfo(storePath: string, edit: (text: string) => string): void {
    const file = narInfoFile(broken, storePath);
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
  }
  function narFileOf(storePath: string): string {
    const url = /^URL: (.*)$/m.exec(readFileSync(narInfoFile(broken, storePath), 'utf8'))?.[1] ?? '';
    return path.join(broken, url);
  }

  it('reports corrupt data, hash mismatch, unknown compression and a missing narinfo, and scans the rest', async () => {
    // corrupt compressed bytes in one path
    const nar = narFileOf(storePaths.single);
    const bytes = readFileSync(nar);
    for (let i = 64; i < 96 && i < bytes.length - 8; i++) bytes[i] = (bytes[i] ?? 0) ^ 0xa5;
    writeFileSync(nar, bytes);
    // a NarHash that does not match
    editNarInfo(storePaths.plain, (t) => t.replace(/^NarHash: sha256:.*$/m, `NarHash: sha256:${'0'.repeat(52)}`));
    const missing = storePaths.withNeedle.replace(/\/[0-9a-z]{32}-/, `/${'1'.repeat(32)}-`);
    const { summary, results } = await scanWith(server.url, [storePaths.withNeedle, storePaths.single, storePaths.plain, missing, 'not-a-store-path']);
    const by = new Map(results.map((r) => [r.storePath, r]));
    expect(by.get(storePaths.withNeedle)?.status).toBe('scanned');
    expect(by.get(missing)?.status).toBe('not-in-cache');
    expect(by.get(storePaths.single)?.reason).toMatch(new RegExp(`^${storePaths.single}: .*(xz|FileHash|NAR byte)`));
    expect(by.get(storePaths.plain)?.reason).toMatch(/NarHash mismatch: narinfo says sha256:0{52}, NAR hashes to sha256:[0-9a-z]{52}/);
    expect(by.get('not-a-store-path')?.status).toBe('failed');
    expect(summary).toMatchObject({ total: 5, scanned: 1, notInCache: 1, failed: 3 });
    expect(summary.failures.map((f) => f.storePath).sort()).toEqual(['not-a-store-path', storePaths.plain, storePaths.single].sort());
  });

  it('names an unknown Compression and a narinfo without URL', async () => {
    editNarInfo(storePaths.withNeedle, (t) => t.replace(/^Compression: .*$/m, 'Compression: lzip4000'));
    const { results } = await scanWith(server.url, [storePaths.withNeedle]);
    expect(results[0]?.reason).toMatch(/unsupported Compression "lzip4000"/);
    editNarInfo(storePaths.withNeedle, (t) => t.replace(/^URL: .*\n/m, ''));
    const again = await scanWith(server.url, [storePaths.withNeedle]);
    expect(again.results[0]?.reason).toMatch(/URL/);
  });

  it('reports an unreachable cache per path and completes', async () => {
    const { summary, results } = await scanWith('http://127.0.0.1:9', [storePaths.plain, storePaths.single], { cacheOptions: { retries: 1, timeoutMs: 1000 } });
    expect(summary.failed).toBe(2);
    for (const r of results) expect(r.reason).toMatch(/127\.0\.0\.1:9/);
  });
});

describe('scan through an S3-compatible server on 127.0.0.1', () => {
  it('finds the same as over file://', async () => {
    const { serveCacheOverS3 } = await import('../helpers/s3-server.ts');
    const s3 = await serveCacheOverS3(caches.get('zstd')!);
    try {
      const { summary, results } = await scanWith(s3.cacheUrl, Object.values(storePaths));
      expect(summary).toMatchObject({ scanned: 3, failed: 0 });
      expect(results.flatMap((r) => r.findings).length).toBe(3);
    } finally {
      await s3.close();
    }
  });
});
