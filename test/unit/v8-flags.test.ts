// The V8 flags of bin/v8-flags.mjs name one function index that V8 may optimise in every module:
// it must be the xz decoder's loop in the installed xz-decompress, and code PGlite never runs as a
// function of its own (an import), or PGlite's start would pay TurboFan's memory again. Each place
// that starts vendorscan's Node must pass the same flags.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { V8_FLAGS, XZ_DECODER_FUNCTION } from '../../bin/v8-flags.mjs';
import { wasmFunctions } from '../helpers/wasm-functions.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const require = createRequire(import.meta.url);

describe('the V8 flags', () => {
  it("name the xz decoder's LZMA loop: the xz module's largest function", () => {
    const file = require.resolve('xz-decompress');
    const base64 = /data:application\/wasm;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(file, 'utf8'))?.[1];
    expect(base64, `${file} embeds its WebAssembly`).toBeDefined();
    const { imported, bodies } = wasmFunctions(Buffer.from(base64!, 'base64'));
    const largest = bodies.indexOf(Math.max(...bodies)) + imported;
    expect(largest).toBe(XZ_DECODER_FUNCTION);
  });

  it("name an imported function in PGlite's modules, so none of PGlite's code is optimised", () => {
    const dist = path.dirname(require.resolve('@electric-sql/pglite'));
    for (const name of ['pglite.wasm', 'initdb.wasm']) {
      const { imported, bodies } = wasmFunctions(readFileSync(path.join(dist, name)));
      expect(bodies.length, name).toBeGreaterThan(100);
      expect(XZ_DECODER_FUNCTION, name).toBeLessThan(imported);
    }
  });

  it('are the ones the shebang, the Docker image and the bench pass', () => {
    const flags = V8_FLAGS.join(' ');
    expect(readFileSync(path.join(repo, 'bin', 'vendorscan.mjs'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`ENTRYPOINT ["node", ${V8_FLAGS.map((f) => JSON.stringify(f)).join(', ')}, "/app/bin/vendorscan.mjs"]`);
    for (const line of dockerfile.split('\n').filter((l) => /\bnode .*bin\/vendorscan\.mjs/.test(l))) expect(line).toContain(`node ${flags} bin/vendorscan.mjs`);
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['bench']).toBe(`node ${flags} bench/scan-bench.ts`);
  });
});
