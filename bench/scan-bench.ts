// npm run bench: end-to-end scan throughput against native `xz -dc` on one core, measured in the
// same run on the same files, and peak memory for a NAR of over 1 GB.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { bigNarCache, libraryCache, type BenchCache } from './bench-cache.ts';

const runner = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'run.mjs');
const scanOnce = path.join(path.dirname(new URL(import.meta.url).pathname), 'scan-once.ts');

interface ScanOnce {
  narBytes: number;
  elapsedMs: number;
  failed: unknown[];
  findings: number;
  maxRssBytes: number;
  startupMs: number;
}

function scan(cache: BenchCache, concurrency: number): ScanOnce {
  const out = execFileSync(process.execPath, [runner, scanOnce, cache.cacheDir, String(concurrency), ...cache.storePaths], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ScanOnce;
  if (result.failed.length > 0) throw new Error(`bench scan had failures: ${JSON.stringify(result.failed)}`);
  return result;
}

/** The cache's compressed NARs: what both baselines decompress. */
function xzNars(cache: BenchCache): { dir: string; files: string[] } {
  const dir = path.join(cache.cacheDir, 'nar');
  return { dir, files: readdirSync(dir).filter((f) => f.endsWith('.xz')) };
}

/**
 * Native xz on one core over the very same .nar.xz files, output to /dev/null: the baseline is
 * the decompressor alone, not Node reading its output.
 */
function nativeXz(cache: BenchCache): { mbps: number; seconds: number } {
  const { dir, files } = xzNars(cache);
  const devNull = openSync('/dev/null', 'w');
  const start = process.hrtime.bigint();
  try {
    for (const f of files) {
      const r = spawnSync('xz', ['-dc', '-T1', path.join(dir, f)], { stdio: ['ignore', devNull, 'pipe'] });
      if (r.status !== 0) throw new Error(`xz -dc ${f} failed: ${r.stderr.toString()}`);
    }
  } finally {
    closeSync(devNull);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbps: cache.narBytes / 1e6 / seconds, seconds };
}

/**
 * The ceiling of any pipe-fed scanner on this machine: `xz -dc | sha256sum` per file, `parallel`
 * at a time, C tools only (decompress and hash every byte, as the NarHash check must; no NAR
 * parsing, no matching, no Node).
 */
async function pipedCeiling(cache: BenchCache, parallel: number): Promise<{ mbps: number }> {
  const { dir, files } = xzNars(cache);
  const start = process.hrtime.bigint();
  const one = (file: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', 'xz -dc -T1 "$1" | sha256sum > /dev/null', 'sh', path.join(dir, file)], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz -dc ${file} | sha256sum exited with ${code}`))));
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < files.length) await one(files[next++] ?? '');
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbps: cache.narBytes / 1e6 / seconds };
}

const mb = (n: number): string => (n / 1e6).toFixed(1);
const cores = availableParallelism();
const libs = libraryCache();
console.log(`corpus: ${libs.storePaths.length} store paths, ${mb(libs.narBytes)} MB of NAR (real shared libraries, xz), ${cores} cores`);
const baseline = nativeXz(libs);
const concurrency = Number(process.env['BENCH_CONCURRENCY']) || cores;
const run = scan(libs, concurrency);
const scanMBps = run.narBytes / 1e6 / (run.elapsedMs / 1000);
console.log(`native xz -dc -T1 (baseline): ${baseline.mbps.toFixed(1)} MB/s`);
console.log(`vendorscan scan end to end:  ${scanMBps.toFixed(1)} MB/s  (${run.findings} findings, concurrency ${concurrency}; thread start-up of ${run.startupMs} ms not counted)`);
console.log(`ratio scan / xz:             ${(scanMBps / baseline.mbps).toFixed(2)}  (target >= 1.4)`);
const ceiling = await pipedCeiling(libs, cores);
console.log(`ceiling, ${cores} × (xz -dc | sha256sum): ${ceiling.mbps.toFixed(1)} MB/s, ratio ${(ceiling.mbps / baseline.mbps).toFixed(2)}  (C tools only: no parsing, matching or Node)`);
console.log(`peak RSS, corpus scan:       ${mb(run.maxRssBytes)} MB`);

if (process.env['BENCH_SKIP_BIG'] !== '1') {
  const big = bigNarCache();
  const bigRun = scan(big, 1);
  console.log(`peak RSS, one ${mb(big.narBytes)} MB NAR:   ${mb(bigRun.maxRssBytes)} MB  (target <= 300 MB; ${(bigRun.narBytes / 1e6 / (bigRun.elapsedMs / 1000)).toFixed(1)} MB/s)`);
}

if (process.env['BENCH_SKIP_SERVICE'] !== '1') {
  const { serviceBench } = await import('./service-bench.ts');
  await serviceBench();
}
