// Which signature file costs scan speed: YARA-X MB/s over a real 68 MB static binary with all
// files, and with each file left out. (node bin/run.mjs bench/rules-bench.mts [FILE])
import { compile } from '@litko/yara-x';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SIGNATURES_DIR } from '../signatures/loader.ts';

const file = process.argv[2] ?? '/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1';
const data = readFileSync(file);
const dir = DEFAULT_SIGNATURES_DIR;
const all = readdirSync(dir).filter((f) => f.endsWith('.yar'));
const text = (f: string): string => readFileSync(path.join(dir, f), 'utf8');
function rate(src: string): number {
  const r = compile(src);
  r.setMaxMatchesPerPattern(64);
  r.scan(data);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 3; i++) r.scan(data);
  return data.length / 1e6 / (Number(process.hrtime.bigint() - start) / 3e9);
}
console.log(`${path.basename(file)} (${(data.length / 1e6).toFixed(0)} MB)`);
console.log(`all signatures      ${rate(all.map(text).join('\n')).toFixed(0)} MB/s`);
for (const f of all) console.log(`without ${f.padEnd(18)} ${rate(all.filter((g) => g !== f).map(text).join('\n')).toFixed(0)} MB/s`);
