#!/usr/bin/env node
// The architecture, checked: the folders read bottom to top as the data path, and an import may
// only point to the same layer or one below. Also no folder may hold more than a quarter of the
// code. Run by `npm run check:layers`, by CI, and by test/unit/layers.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layer rank, bottom (0) to top. Folders of one rank may import each other. */
export const LAYERS = {
  errors: 0,
  nix: 1,
  formats: 1,
  archive: 1,
  cache: 2,
  decompress: 2,
  yara: 3,
  signatures: 4,
  advisories: 4,
  scanner: 5,
  store: 6,
  workers: 7,
  services: 8,
  dashboard: 8,
  cli: 9,
};

const SOURCE = /\.(ts|mts|mjs)$/;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

/** Every back-edge (an import of a higher layer) and every folder over a quarter of the code. */
export function checkLayers(root) {
  const problems = [];
  const lines = {};
  let total = 0;
  for (const layer of Object.keys(LAYERS)) {
    const dir = path.join(root, layer);
    try {
      statSync(dir);
    } catch {
      continue;
    }
    for (const file of files(dir)) {
      const text = readFileSync(file, 'utf8');
      const n = text.split('\n').length;
      lines[layer] = (lines[layer] ?? 0) + n;
      total += n;
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        const target = path.relative(root, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
        if (!(target in LAYERS)) continue;
        if (LAYERS[target] > LAYERS[layer]) problems.push(`${path.relative(root, file)} imports ${spec}: ${layer}/ (layer ${LAYERS[layer]}) may not import ${target}/ (layer ${LAYERS[target]})`);
      }
    }
  }
  for (const [layer, n] of Object.entries(lines)) {
    if (n > total / 4) problems.push(`${layer}/ holds ${n} of ${total} lines of code (${((100 * n) / total).toFixed(0)} %), more than a quarter`);
  }
  return { problems, lines, total };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { problems, lines, total } = checkLayers(root);
  for (const [layer, n] of Object.entries(lines)) console.log(`${layer.padEnd(12)} ${String(n).padStart(6)} lines  ${((100 * n) / total).toFixed(0).padStart(3)} %`);
  if (problems.length) {
    for (const p of problems) console.error(`layers: ${p}`);
    process.exit(1);
  }
  console.log(`layers: no import runs upward (${total} lines in ${Object.keys(lines).length} layers)`);
}
