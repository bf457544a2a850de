// Library copies in real WebAssembly builds from the npm registry, through the real data path
// (store path added by Nix, binary cache by `nix copy`, scanned with the bundled signatures). The
// packages are fetched with `npm pack` into a temporary folder, never committed; without a
// reachable registry the tests are skipped, saying so. Ground truth comes from the packages:
// @img/sharp-wasm32's versions.json; @jsquash/webp's codec Makefile pins libwebp commit d2e245ea
// (after 1.1.0), whose WebPGet*Version return 0x010100.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { runScan } from '../../scanner/scan.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { loadSignatures } from '../../signatures/loader.ts';

const PACKAGES = { webp: '@jsquash/webp@1.5.0', png: '@jsquash/png@3.1.1', sharp: '@img/sharp-wasm32@0.35.5', both: 'wasm-webp@0.1.0' };
let work = '';
let cacheDir = '';
let storePath = '';
let unreachable: string | null = null;
let sharpVersions: Record<string, string> = {};

function unpack(spec: string): string {
  const dir = mkdtempSync(path.join(work, 'pkg-'));
  execFileSync('npm', ['pack', spec, '--silent'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  execFileSync('sh', ['-c', 'tar xzf ./*.tgz && rm ./*.tgz'], { cwd: dir });
  return path.join(dir, 'package');
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'vendorscan-wasm-'));
  let dirs: Record<keyof typeof PACKAGES, string>;
  try {
    dirs = { webp: unpack(PACKAGES.webp), png: unpack(PACKAGES.png), sharp: unpack(PACKAGES.sharp), both: unpack(PACKAGES.both) };
  } catch (err) {
    unreachable = `npm registry unreachable (${(err as Error).message.split('\n')[0]}): wasm tests skipped`;
    console.warn(unreachable);
    return;
  }
  sharpVersions = JSON.parse(readFileSync(path.join(dirs.sharp, 'versions.json'), 'utf8')) as Record<string, string>;
  const file = (dir: string, rel: string): Buffer => readFileSync(path.join(dir, rel));
  storePath = addToStore('wasm-codecs-1.0', {
    share: {
      'webp_dec.wasm': file(dirs.webp, 'codec/dec/webp_dec.wasm'),
      'webp_enc.wasm': file(dirs.webp, 'codec/enc/webp_enc.wasm'),
      'webp_enc_simd.wasm': file(dirs.webp, 'codec/enc/webp_enc_simd.wasm'),
      'squoosh_png_bg.wasm': file(dirs.png, 'codec/pkg/squoosh_png_bg.wasm'),
      'webp-wasm.wasm': file(dirs.both, 'dist/esm/webp-wasm.wasm'),
      'sharp.wasm': file(dirs.sharp, `lib/sharp-wasm32-${PACKAGES.sharp.split('@').pop()}.node.wasm`),
    },
  });
  cacheDir = makeBinaryCache([storePath], 'zstd');
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

describe('WebAssembly builds from the npm registry', () => {
  let result: PathResult | undefined;
  const copies = (file: string): string[] =>
    (result?.findings ?? []).filter((f) => f.file === `share/${file}`).map((f) => `${f.library}@${f.version ?? '?'} ${f.evidence}`).sort();

  beforeAll(async () => {
    if (unreachable) return;
    await runScan({
      cacheUrl: `file://${cacheDir}`,
      cacheOptions: { retries: 1, timeoutMs: 10_000 },
      ruleSources: loadSignatures().sources,
      binaryOnly: true,
      matchOptions: {},
      decompress: {},
      paths: [storePath],
      concurrency: 1,
      threads: 1,
      onResult: (r) => {
        result = r;
      },
    });
  }, 120_000);

  it('reads libwebp 1.1.0 from the i32.const of WebPGet*Version in the squoosh codecs', (ctx) => {
    if (unreachable) return ctx.skip(unreachable);
    expect(result?.status).toBe('scanned');
    for (const file of ['webp_dec.wasm', 'webp_enc.wasm', 'webp_enc_simd.wasm']) expect(copies(file)).toEqual(['libwebp@1.1.0 exported-version-function']);
  });

  it('reads libwebp 1.3.2 where decoder and encoder version functions share one module (wasm-webp, whose README says 1.3.2)', (ctx) => {
    if (unreachable) return ctx.skip(unreachable);
    expect(copies('webp-wasm.wasm')).toEqual(['libwebp@1.3.2 exported-version-function']);
  });

  it("reads sharp's wasm libvips pins from its versions.json: libwebp, libpng, zlib-ng", (ctx) => {
    if (unreachable) return ctx.skip(unreachable);
    const found = copies('sharp.wasm');
    expect(found).toContain(`libwebp@${sharpVersions['webp']} product-pin`);
    expect(found).toContain(`zlib-ng@${sharpVersions['zlib-ng']} product-pin`);
    expect(found.some((f) => f.startsWith(`libpng@${sharpVersions['png']} `))).toBe(true);
  });

  it('finds no libpng or zlib in a Rust png codec (the png and miniz_oxide crates)', (ctx) => {
    if (unreachable) return ctx.skip(unreachable);
    expect(copies('squoosh_png_bg.wasm')).toEqual([]);
  });
});
