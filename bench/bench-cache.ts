// Benchmark inputs made by real Nix from real binaries on this machine: store paths of ~20 MB of
// shared libraries each (a realistic mix of ELF objects), and one store path holding a single
// file of over 1 GB. Built once into bench/.cache and reused.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const here = path.dirname(new URL(import.meta.url).pathname);
export const benchDir = path.join(here, '.cache');
const nixEnv = { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' };

export interface BenchCache {
  cacheDir: string;
  storePaths: string[];
  narBytes: number;
}

/**
 * Regular files under `dir`, each content once: hard links and copies are skipped (Mesa installs
 * one 25 MB driver under a dozen names, which would make a corpus of one file repeated).
 */
function* walk(dir: string, seen = new Set<string>()): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) yield* walk(p, seen);
    else if (st.isFile() && st.size > 0) {
      const key = `${st.size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      yield p;
    }
  }
}

function addAndCopy(trees: string[], cacheDir: string, compression: string, extra = ''): string[] {
  const storePaths: string[] = [];
  for (let i = 0; i < trees.length; i += 200) {
    storePaths.push(...execFileSync('nix-store', ['--add', ...trees.slice(i, i + 200)], { env: nixEnv, encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n'));
  }
  rmSync(cacheDir, { recursive: true, force: true });
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${cacheDir}?compression=${compression}${extra}`, ...storePaths], {
    env: nixEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return storePaths;
}

function narSize(storePath: string): number {
  return Number(execFileSync('nix-store', ['--query', '--size', storePath], { env: nixEnv, encoding: 'utf8' }).trim());
}

function load(name: string, build: () => BenchCache): BenchCache {
  const manifest = path.join(benchDir, `${name}.json`);
  if (existsSync(manifest)) {
    const cached = JSON.parse(readFileSync(manifest, 'utf8')) as BenchCache;
    if (existsSync(cached.cacheDir) && cached.storePaths.every((p) => existsSync(p))) return cached;
  }
  mkdirSync(benchDir, { recursive: true });
  const built = build();
  writeFileSync(manifest, JSON.stringify(built, null, 2));
  return built;
}

/**
 * ≥ `minBytes` of real shared libraries, in store paths of ~20 MB, xz-compressed by Nix. Files over
 * 16 MB are left out: a few 100 MB libraries (LLVM) would make a handful of paths whose tail leaves
 * a core idle, and measure that instead of throughput.
 */
export function libraryCache(minBytes = 320e6, source = '/usr/lib/x86_64-linux-gnu'): BenchCache {
  return load('libraries-mix-xz', () => {
    const staging = path.join(benchDir, 'staging');
    rmSync(staging, { recursive: true, force: true });
    const trees: string[] = [];
    let total = 0;
    let groupBytes = Infinity;
    let group = '';
    for (const file of walk(source)) {
      if (total >= minBytes) break;
      const size = lstatSync(file).size;
      if (size > 16e6) continue;
      if (groupBytes >= 20e6) {
        group = path.join(staging, `libs-${String(trees.length).padStart(3, '0')}-1.0`);
        trees.push(group);
        groupBytes = 0;
      }
      const dest = path.join(group, path.relative(source, file));
      mkdirSync(path.dirname(dest), { recursive: true });
      cpSync(file, dest);
      groupBytes += size;
      total += size;
    }
    process.stderr.write(`bench: compressing ${(total / 1e6).toFixed(0)} MB of real libraries in ${trees.length} store paths with xz (once)…\n`);
    const cacheDir = path.join(benchDir, 'libraries-mix-xz');
    const storePaths = addAndCopy(trees, cacheDir, 'xz');
    rmSync(staging, { recursive: true, force: true });
    return { cacheDir, storePaths, narBytes: storePaths.reduce((a, p) => a + narSize(p), 0) };
  });
}

/** One store path whose NAR exceeds `minBytes`: a single file of real library bytes repeated. */
export function bigNarCache(minBytes = 1.05e9, source = '/usr/lib/x86_64-linux-gnu'): BenchCache {
  return load('big-nar-zstd', () => {
    const staging = path.join(benchDir, 'big-staging', 'big-nar-1.0');
    rmSync(path.dirname(staging), { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const out = openSync(path.join(staging, 'blob.so'), 'w');
    let written = 0;
    while (written < minBytes) {
      for (const file of walk(source)) {
        const data = readFileSync(file);
        writeSync(out, data);
        written += data.length;
        if (written >= minBytes) break;
      }
    }
    closeSync(out);
    process.stderr.write(`bench: packing a ${(written / 1e9).toFixed(2)} GB single-file store path with zstd (once)…\n`);
    const cacheDir = path.join(benchDir, 'big-nar-zstd');
    const storePaths = addAndCopy([staging], cacheDir, 'zstd');
    rmSync(path.dirname(staging), { recursive: true, force: true });
    return { cacheDir, storePaths, narBytes: narSize(storePaths[0] ?? '') };
  });
}

/** Binaries over 100 MB that machines of this kind carry; the big-NAR corpus takes those present. */
export const BIG_BINARIES = [
  '/usr/lib/chromium/chromium',
  '/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/libLLVM.so.22.1-rust-1.95.0-stable',
  '/root/.rustup/toolchains/nightly-x86_64-unknown-linux-gnu/lib/libLLVM.so.22.1-rust-1.97.0-nightly',
];

/**
 * One store path per big real binary (Debian's Chromium, 297 MB; the Rust toolchains' libLLVM,
 * 200 MB each), xz-compressed by Nix (its parallel compression, to build it in minutes; xz -dc
 * still decodes it on one core).
 */
export function bigBinariesCache(files = BIG_BINARIES): BenchCache & { largest: number[] } {
  const present = files.filter((f) => existsSync(f) && lstatSync(f).size > 100e6);
  if (present.length < 2) throw new Error(`big-NAR corpus: need at least 2 binaries over 100 MB, found ${present.length} of ${files.join(', ')}`);
  const cache = load(`big-binaries-xz-${present.length}`, () => {
    const staging = path.join(benchDir, 'big-binaries-staging');
    rmSync(staging, { recursive: true, force: true });
    const trees = present.map((file, i) => {
      const tree = path.join(staging, `${path.basename(file).split('.')[0]}-${i}-1.0`);
      mkdirSync(path.join(tree, 'lib'), { recursive: true });
      cpSync(file, path.join(tree, 'lib', path.basename(file)));
      return tree;
    });
    process.stderr.write(`bench: compressing ${present.length} binaries over 100 MB with xz (once, a few minutes)…\n`);
    const cacheDir = path.join(benchDir, `big-binaries-xz-${present.length}`);
    const storePaths = addAndCopy(trees, cacheDir, 'xz', '&parallel-compression=true');
    rmSync(staging, { recursive: true, force: true });
    return { cacheDir, storePaths, narBytes: storePaths.reduce((a, p) => a + narSize(p), 0) };
  });
  return { ...cache, largest: present.map((f) => lstatSync(f).size).sort((a, b) => b - a) };
}

/** `count` store paths holding one small real binary each (/bin/true plus a line, so each NAR differs), xz by Nix. */
export function smallPathsCache(count = 2001): BenchCache {
  return load(`small-${count}-xz`, () => {
    const staging = path.join(benchDir, 'small-staging');
    rmSync(staging, { recursive: true, force: true });
    const binary = readFileSync('/bin/true');
    const trees: string[] = [];
    for (let i = 0; i < count; i++) {
      const t = path.join(staging, `pkg${i}-1.${i}`);
      mkdirSync(path.join(t, 'bin'), { recursive: true });
      writeFileSync(path.join(t, 'bin', 'tool'), Buffer.concat([binary, Buffer.from(`pkg ${i}\n`)]));
      trees.push(t);
    }
    process.stderr.write(`bench: adding ${count} small store paths with Nix, xz (once)…\n`);
    const cacheDir = path.join(benchDir, `small-${count}-xz`);
    const storePaths = addAndCopy(trees, cacheDir, 'xz');
    rmSync(staging, { recursive: true, force: true });
    return { cacheDir, storePaths, narBytes: storePaths.reduce((a, p) => a + narSize(p), 0) };
  });
}
