import { readdirSync, readFileSync } from 'node:fs';
import { decompressXzWasm } from '../decompress/xz-wasm.ts';
const dir = 'bench/.cache/small-2001-xz/nar';
const files = readdirSync(dir).filter((f) => f.endsWith('.xz')).map((f) => readFileSync(`${dir}/${f}`));
for (let round = 0; round < 3; round++) {
  const t = performance.now(); let n = 0;
  for (const f of files) { async function* one() { yield f; } for await (const c of decompressXzWasm(one())) n += c.length; }
  console.log(`round ${round}: ${((performance.now() - t) / files.length).toFixed(2)} ms/NAR, ${(n / 1e6).toFixed(0)} MB`);
}
