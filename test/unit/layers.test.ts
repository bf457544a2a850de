// The architecture as a test: no import runs from a lower layer to a higher one, no folder holds
// more than a quarter of the code, and the checker does catch a back-edge.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, typed by its use here
import { checkLayers, LAYERS } from '../../bin/check-layers.mjs';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

describe('layers', () => {
  it('has no back-edge and no folder over a quarter of the code', () => {
    const { problems, lines } = checkLayers(repo) as { problems: string[]; lines: Record<string, number> };
    expect(problems).toEqual([]);
    expect(Object.keys(lines)).toEqual(expect.arrayContaining(['nix', 'cache', 'decompress', 'yara', 'signatures', 'scanner', 'store', 'workers', 'services', 'cli']));
  });

  it('reports an import from a lower layer to a higher one', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'layers-'));
    mkdirSync(path.join(root, 'nix'));
    mkdirSync(path.join(root, 'store'));
    writeFileSync(path.join(root, 'store', 'q.ts'), 'export const q = 1;\n');
    writeFileSync(path.join(root, 'nix', 'p.ts'), "import { q } from '../store/q.ts';\nexport const p = q;\n");
    const { problems } = checkLayers(root) as { problems: string[] };
    expect(problems.some((p) => p.includes('nix/p.ts imports ../store/q.ts'))).toBe(true);
    expect((LAYERS as Record<string, number>)['nix']).toBeLessThan((LAYERS as Record<string, number>)['store'] ?? 0);
  });
});
