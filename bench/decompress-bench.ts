// node bin/run.mjs bench/decompress-bench.ts [MB]
// Decompression throughput of each engine (system tool in a child process vs JS/WASM) on real
// data: the first MB (default 200) of a tar of /usr/lib/x86_64-linux-gnu, compressed the way
// Nix does (xz -6 single-threaded, zstd -3, bzip2 -9). Prints MB/s of decompressed output and
// CPU seconds (this process plus the child tool), for workers/decompress/MEASUREMENTS.md.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { decompress, type Compression } from '../decompress/decompress.ts';

const megabytes = Number(process.argv[2] ?? 200);
const dir = path.join(tmpdir(), 'vendorscan-decompress-bench');
const sample = path.join(dir, `usr-lib-${megabytes}M.tar`);
const FORMATS: { compression: Compression; ext: string; command: string }[] = [
  { compression: 'xz', ext: 'xz', command: 'xz -6 -T1 -c' },
  { compression: 'zstd', ext: 'zst', command: 'zstd -3 -q -c' },
  { compression: 'bzip2', ext: 'bz2', command: 'bzip2 -9 -c' },
];

function prepare(): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(sample)) {
    console.error(`writing ${sample}`);
    execFileSync('sh', ['-c', `tar cf - /usr/lib/x86_64-linux-gnu 2>/dev/null | head -c ${megabytes}M > '${sample}.tmp' && mv '${sample}.tmp' '${sample}'`]);
  }
  for (const f of FORMATS) {
    const out = `${sample}.${f.ext}`;
    if (existsSync(out)) continue;
    console.error(`compressing with ${f.command} (once, cached in ${dir})`);
    execFileSync('sh', ['-c', `${f.command} < '${sample}' > '${out}.tmp' && mv '${out}.tmp' '${out}'`]);
  }
}

/** CPU seconds of this process and of its reaped children (the decompressor tools), from /proc. */
function cpuSeconds(): { self: number; children: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ').map(Number);
  // After "pid (comm) ": field 14..17 of stat(5) are at index 11..14 here; ticks of 1/100 s.
  const tick = (i: number): number => (fields[i] ?? 0) / 100;
  return { self: tick(11) + tick(12), children: tick(13) + tick(14) };
}

interface Run {
  compression: Compression;
  engine: 'native' | 'js';
  inMB: number;
  outMB: number;
  seconds: number;
  mbps: number;
  cpuSelf: number;
  cpuChild: number;
}

async function measure(compression: Compression, engine: 'native' | 'js', file: string): Promise<Run> {
  const cpu0 = cpuSeconds();
  const start = process.hrtime.bigint();
  let out = 0;
  for await (const chunk of decompress(createReadStream(file, { highWaterMark: 256 * 1024 }), compression, { prefer: engine })) out += chunk.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu1 = cpuSeconds();
  const outMB = out / 1e6;
  return {
    compression,
    engine,
    inMB: statSync(file).size / 1e6,
    outMB,
    seconds,
    mbps: outMB / seconds,
    cpuSelf: cpu1.self - cpu0.self,
    cpuChild: cpu1.children - cpu0.children,
  };
}

prepare();
console.log(`decompression of ${megabytes} MB of /usr/lib/x86_64-linux-gnu (tar), ${cpus().length} cores, node ${process.version}`);
console.log('codec  engine  compressed MB  out MB   seconds   MB/s out   CPU s (node + tool)');
const runs: Run[] = [];
for (const f of FORMATS) {
  for (const engine of ['native', 'js'] as const) {
    const r = await measure(f.compression, engine, `${sample}.${f.ext}`);
    runs.push(r);
    console.log(
      `${r.compression.padEnd(6)} ${r.engine.padEnd(7)} ${r.inMB.toFixed(1).padStart(13)} ${r.outMB.toFixed(1).padStart(7)} ${r.seconds.toFixed(2).padStart(9)} ${r.mbps.toFixed(1).padStart(10)}   ${(r.cpuSelf + r.cpuChild).toFixed(2)} (${r.cpuSelf.toFixed(2)} + ${r.cpuChild.toFixed(2)})`,
    );
  }
}
for (const f of FORMATS) {
  const native = runs.find((r) => r.compression === f.compression && r.engine === 'native');
  const js = runs.find((r) => r.compression === f.compression && r.engine === 'js');
  if (native && js) console.log(`${f.compression}: native is ${(native.mbps / js.mbps).toFixed(2)}x the JS engine's throughput`);
}
console.log(JSON.stringify(runs));
