// `npm run fuzz`: property-based fuzzing (fast-check) of every parser that reads untrusted bytes:
// the narinfo and nix-cache-info parsers, the NAR parser (random chunking), the decompression
// front (zstd frame walker, xz header reader, and the JS decoders behind them), the binary
// readers (ar archives, ELF) and the archive walker (zip, jar, tar, tar.gz, tar.xz, tar.bz2 with
// the scanner's decoders, asar, nested). Inputs are random bytes and mutations (flips, cuts, splices) of real
// samples made by real tools. A crash is any exception that is not the parser's own error type
// (a TypeError, a RangeError, a hang past the per-input budget): fast-check shrinks it, this prints
// the input as base64, and it becomes a case in test/unit/fuzz-regressions.test.ts.
//
// FUZZ_RUNS: inputs per target (default 2,000: the CI run; the full drill is FUZZ_RUNS=150000 or
// more: ≥ 1,000,000 inputs over the targets). FUZZ_SEED: replay a run. FUZZ_ONLY: one target.
import fc from 'fast-check';
import { VendorscanError } from '../../errors/errors.ts';
import { parseNarInfo } from '../../nix/narinfo.ts';
import { parseNixCacheInfo } from '../../nix/nix-cache-info.ts';
import { NarParser } from '../../nix/nar.ts';
import { xzFirstDictionary, zstdWindowGuard } from '../../decompress/limits.ts';
import { decompress } from '../../decompress/decompress.ts';
import { ArError, readAr, readArIndex } from '../../formats/ar.ts';
import { ElfError, parseElf, readElfLinkage } from '../../formats/elf.ts';
import { walkArchive } from '../../archive/index.ts';
import { archiveLayerDecoders } from '../../decompress/archive-layers.ts';
import { fuzzSamples } from './samples.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const ONLY = process.env['FUZZ_ONLY'];

interface Target {
  name: string;
  samples: Uint8Array[];
  /** Runs one input; throws only on a crash (expected errors are caught inside). */
  run(input: Uint8Array, chunk: number): void | Promise<void>;
  /** Inputs per run relative to RUNS (slow targets take fewer). */
  share?: number;
}

const expected = (err: unknown, ...classes: (new (...args: never[]) => Error)[]): boolean => err instanceof VendorscanError || classes.some((c) => err instanceof c);

function guard(fn: () => void, ...classes: (new (...args: never[]) => Error)[]): void {
  try {
    fn();
  } catch (err) {
    if (!expected(err, ...classes)) throw err;
  }
}

async function guardAsync(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!expected(err)) throw err;
  }
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const text = new TextDecoder();
const s = fuzzSamples();
const layers = archiveLayerDecoders();

const targets: Target[] = [
  { name: 'narinfo', samples: s.narinfos, run: (b) => guard(() => void parseNarInfo(text.decode(b), 'fuzz.narinfo')) },
  { name: 'nix-cache-info', samples: s.cacheInfos, run: (b) => guard(() => void parseNixCacheInfo(text.decode(b), 'fuzz/nix-cache-info')) },
  {
    name: 'nar',
    samples: s.nars,
    run: (b, chunk) =>
      guard(() => {
        const parser = new NarParser({ fileStart: () => {}, fileData: () => {}, fileEnd: () => {} });
        for (let at = 0; at < b.length; at += chunk) parser.write(b.subarray(at, at + chunk));
        parser.end();
      }),
  },
  {
    name: 'zstd-front',
    samples: s.zstd,
    run: async (b, chunk) =>
      guardAsync(async () => {
        for await (const _ of zstdWindowGuard(chunked(b, chunk), 128 * 1024 * 1024, 'js'));
      }),
  },
  { name: 'xz-front', samples: s.xz, run: (b) => guard(() => void xzFirstDictionary(b)) },
  {
    name: 'zstd-decode',
    samples: s.zstd,
    share: 0.05,
    run: async (b, chunk) =>
      guardAsync(async () => {
        for await (const _ of decompress(chunked(b, chunk), 'zstd', { prefer: 'js' }));
      }),
  },
  {
    name: 'xz-decode',
    samples: s.xz,
    share: 0.05,
    run: async (b, chunk) =>
      guardAsync(async () => {
        for await (const _ of decompress(chunked(b, chunk), 'xz', { prefer: 'js' }));
      }),
  },
  {
    name: 'ar',
    samples: s.ars,
    run: (b) =>
      guard(() => {
        readAr(b);
        readArIndex(b);
      }, ArError),
  },
  {
    name: 'elf',
    samples: s.elfs,
    run: (b) =>
      guard(() => {
        parseElf(b);
        readElfLinkage(b);
      }, ElfError),
  },
  {
    // walkArchive promises never to throw for anything in the input: every exception is a crash.
    name: 'archives',
    samples: s.archives,
    run: (b) => {
      walkArchive(b, { maxTotalBytes: 16 * 1024 * 1024 }, () => {}, 'archive', { layers });
    },
  },
];

/** Random bytes, or a real sample flipped, cut, spliced or with a field-sized integer planted. */
function inputs(samples: Uint8Array[]): fc.Arbitrary<{ input: Uint8Array; chunk: number }> {
  const mutated = fc
    .record({
      base: fc.constantFrom(...samples),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      plant: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xffffffff, 2 ** 53 - 1))),
      cut: fc.option(fc.nat()),
      splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 }))),
    })
    .map(({ base, flips, plant, cut, splice }) => {
      let b = Uint8Array.from(base);
      for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
      if (plant && b.length >= 8) {
        const at = plant[0] % (b.length - 7);
        new DataView(b.buffer).setBigUint64(at, BigInt(plant[1]), true);
      }
      if (splice) {
        const at = b.length === 0 ? 0 : splice[0] % b.length;
        b = new Uint8Array(Buffer.concat([b.subarray(0, at), splice[1], b.subarray(at)]));
      }
      if (cut !== null && b.length > 0) b = b.subarray(0, cut % (b.length + 1));
      return b;
    });
  const random = fc.uint8Array({ maxLength: 512 });
  return fc.record({ input: fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: random }), chunk: fc.integer({ min: 1, max: 4096 }) });
}

let total = 0;
let failed = false;
for (const t of targets) {
  if (ONLY !== undefined && ONLY !== t.name) continue;
  const numRuns = Math.max(1, Math.round(RUNS * (t.share ?? 1)));
  const started = Date.now();
  const result = await fc.check(
    fc.asyncProperty(inputs(t.samples), async ({ input, chunk }) => {
      await t.run(input, chunk);
    }),
    { numRuns, ...(SEED !== undefined ? { seed: SEED } : {}), interruptAfterTimeLimit: undefined },
  );
  total += result.numRuns;
  const ms = Date.now() - started;
  if (result.failed) {
    failed = true;
    const [example] = result.counterexample ?? [];
    process.stdout.write(
      `${t.name}: CRASH after ${result.numRuns} inputs (seed ${result.seed}, path ${result.counterexamplePath}): ${String(result.errorInstance)}\n  input (base64): ${Buffer.from(example?.input ?? []).toString('base64')}\n  chunk: ${example?.chunk}\n`,
    );
  } else {
    process.stdout.write(`${t.name}: ${result.numRuns} inputs, no crash (${ms} ms, seed ${result.seed})\n`);
  }
}
process.stdout.write(`fuzz: ${total} inputs in all, ${failed ? 'CRASHES FOUND' : 'no crash'}\n`);
process.exitCode = failed ? 1 : 0;
