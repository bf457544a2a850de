// Decompression of real NARs written by real Nix (`nix copy --to file://…?compression=…`),
// compared byte for byte with `nix-store --dump`, through both engines.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addToStore, dumpNar, makeBinaryCache } from '../helpers/nix.ts';
import {
  decompress,
  DecompressionError,
  engineFor,
  parseCompression,
  UnsupportedCompressionError,
  type Compression,
} from '../../decompress/decompress.ts';
import { nativeCommand } from '../../decompress/tools.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

type Engine = 'native' | 'js';
const ENGINES: Engine[] = ['native', 'js'];
const CODECS = ['xz', 'zstd', 'bzip2', 'gzip', 'br', 'none'] as const satisfies readonly Compression[];

/** A cache in a compression makeBinaryCache's type does not list (Nix writes gzip and br too). */
function nixCopy(storePath: string, compression: 'gzip' | 'br'): string {
  const dir = mkdtempSync(path.join(tmpdir(), `vendorscan-cache-${compression}-`));
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${dir}?compression=${compression}`, storePath], {
    env: { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return dir;
}

function onlyNar(cacheDir: string): Buffer {
  const files = readdirSync(path.join(cacheDir, 'nar'));
  expect(files).toHaveLength(1);
  return readFileSync(path.join(cacheDir, 'nar', files[0] ?? ''));
}

/** Deterministic pseudo-random sizes, so a failure reproduces. */
function* randomSizes(seed: number, max: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    yield 1 + (x % max);
  }
}

async function* chunked(data: Uint8Array, sizes?: Iterator<number>): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; ) {
    const n = sizes ? sizes.next().value ?? 1 : data.length;
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Decodes `input` as xz in a process whose PATH holds only xz (no zstd): its error message, or "ok". */
function withoutZstd(label: string, input: Buffer): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'vendorscan-only-xz-'));
  symlinkSync('/usr/bin/xz', path.join(bin, 'xz'));
  const file = path.join(bin, `${label}.xz`);
  writeFileSync(file, input);
  const script = `import { decompress } from ${JSON.stringify(path.join(repo, 'decompress', 'decompress.ts'))};
import { readFileSync } from 'node:fs';
async function* once() { yield readFileSync(${JSON.stringify(file)}); }
try { for await (const _ of decompress(once(), 'xz', { prefer: 'native' })); console.log('ok'); } catch (e) { console.log(e.message); }`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: bin }, encoding: 'utf8' }).trim();
}

let nar: Buffer;
const compressed = new Map<Compression, Buffer>();

beforeAll(() => {
  // Real binaries: compressed data that looks like what a binary cache serves.
  const storePath = addToStore('decompress-fixture', {
    bin: { ls: { exec: readFileSync('/usr/bin/ls') }, tar: { exec: readFileSync('/usr/bin/tar') } },
    lib: { 'libc.so.6': readFileSync('/usr/lib/x86_64-linux-gnu/libc.so.6'), 'libc.so': { link: 'libc.so.6' } },
    'README.txt': 'a text file\n'.repeat(500),
  });
  nar = dumpNar(storePath);
  for (const c of ['xz', 'zstd', 'bzip2', 'none'] as const) compressed.set(c, onlyNar(makeBinaryCache([storePath], c)));
  for (const c of ['gzip', 'br'] as const) compressed.set(c, onlyNar(nixCopy(storePath, c)));
});

describe('parseCompression', () => {
  it('accepts every narinfo value Nix writes', () => {
    for (const c of CODECS) expect(parseCompression(c, 'x.narinfo line 4')).toBe(c);
  });
  it('names the unknown value and where it came from', () => {
    const error = (() => {
      try {
        parseCompression('lzip', 'https://cache.example/abc.narinfo line 5');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedCompressionError);
    expect((error as Error).message).toBe(
      'https://cache.example/abc.narinfo line 5: unsupported Compression "lzip" (known: xz, zstd, bzip2, br, gzip, none)',
    );
  });
});

describe('real Nix NARs decompress to exactly `nix-store --dump`', () => {
  for (const c of CODECS) {
    for (const engine of ENGINES) {
      it(`${c} (${engine}): one chunk and small random chunks`, async () => {
        const input = compressed.get(c)!;
        if (c !== 'none') expect(input.equals(nar)).toBe(false);
        expect((await collect(decompress(chunked(input), c, { prefer: engine }))).equals(nar)).toBe(true);
        const small = await collect(decompress(chunked(input, randomSizes(input.length, 700)), c, { prefer: engine }));
        expect(small.equals(nar)).toBe(true);
      });
    }
  }

  it('auto uses the native tool when it is on PATH', () => {
    for (const c of ['xz', 'zstd', 'bzip2'] as const) expect(engineFor(c)).toBe('native');
    expect(engineFor('xz', { prefer: 'js' })).toBe('js');
  });
});

describe('bad input raises DecompressionError', () => {
  for (const c of CODECS.filter((c) => c !== 'none')) {
    for (const engine of ENGINES) {
      it(`${c} (${engine}): truncated at several points`, async () => {
        const input = compressed.get(c)!;
        for (const cut of [0, 1, 7, 100, Math.floor(input.length / 3), input.length - 1]) {
          const error = await failure(collect(decompress(chunked(input.subarray(0, cut), randomSizes(cut, 5000)), c, { prefer: engine })));
          expect(error, `cut at ${cut}`).toBeInstanceOf(DecompressionError);
          expect((error as DecompressionError).compression).toBe(c);
        }
      });

      it(`${c} (${engine}): bytes flipped in the middle`, async () => {
        // Nix writes zstd frames without a content checksum, so a flip that leaves the bitstream
        // well formed decodes silently there (NarHash catches it downstream). Here we use the same
        // NAR as the zstd tool frames it by default, with the checksum.
        const input = Buffer.from(c === 'zstd' ? execFileSync('zstd', ['-c', '--check', '-3'], { input: nar, maxBuffer: 1 << 28 }) : compressed.get(c)!);
        const middle = Math.floor(input.length / 2);
        for (let i = middle; i < middle + 16; i++) input[i] = (input[i] ?? 0) ^ 0xa5;
        const error = await failure(collect(decompress(chunked(input, randomSizes(7, 9000)), c, { prefer: engine })));
        expect(error).toBeInstanceOf(DecompressionError);
        expect((error as DecompressionError).message).toMatch(new RegExp(`^${c} decompression \\(${c === 'gzip' || c === 'br' ? 'native' : engine}\\) failed: `));
      });
    }
  }

  it('quotes the tool: it says the input ended (zstd decodes xz here; xz where zstd cannot)', async () => {
    const input = compressed.get('xz')!;
    expect(nativeCommand('xz')).toBe('zstd'); // Debian's zstd is built with liblzma, and prlimit is util-linux's
    const error = await failure(collect(decompress(chunked(input.subarray(0, 5000)), 'xz', { prefer: 'native' })));
    expect((error as Error).message).toMatch(/^xz decompression \(native\) failed: zstd -dcq --no-asyncio \(data limited to \d+ bytes\) exited with status 1 after reading 5000 compressed bytes: unexpected end of input \(zstd: .*premature lzma end\)$/);
    const fallback = withoutZstd('truncated', input.subarray(0, 5000));
    expect(fallback).toMatch(/^xz decompression \(native\) failed: xz -dc --memlimit-decompress=\d+ exited with status 1 after reading 5000 compressed bytes: xz: \(stdin\): Unexpected end of input$/);
  });

  it('refuses a zstd or gzip stream labelled xz, whichever engine (zstd alone would decode it)', async () => {
    for (const other of [compressed.get('zstd')!, compressed.get('gzip')!]) {
      for (const engine of ENGINES) {
        const error = await failure(collect(decompress(chunked(other), 'xz', { prefer: engine })));
        expect(error).toBeInstanceOf(DecompressionError);
        expect((error as Error).message).toMatch(/file format not recognized|not in xz format/);
      }
    }
  });

  it('refuses an xz, gzip or bzip2 stream labelled zstd, whichever engine (the zstd tool would decode xz and gzip)', async () => {
    for (const other of ['xz', 'gzip', 'bzip2'] as const) {
      for (const engine of ENGINES) {
        const error = await failure(collect(decompress(chunked(compressed.get(other)!), 'zstd', { prefer: engine })));
        expect(error, `${other} as zstd (${engine})`).toBeInstanceOf(DecompressionError);
        expect((error as Error).message).toMatch(/compressed byte 0 begins neither a zstd frame nor a skippable frame/);
      }
    }
    // After a valid frame too.
    const error = await failure(collect(decompress(chunked(Buffer.concat([compressed.get('zstd')!, compressed.get('xz')!])), 'zstd', { prefer: 'native' })));
    expect((error as Error).message).toMatch(new RegExp(`compressed byte ${compressed.get('zstd')!.length} begins neither`));
  });

  it('probes zstd under the data limit it will run with: a hard RLIMIT_DATA below it means xz', () => {
    const tools = JSON.stringify(path.join(repo, 'decompress', 'tools.ts'));
    const script = `import { nativeCommand } from ${tools};
console.log(nativeCommand('xz'), nativeCommand('xz', { maxWindowBytes: 2 * 1024 ** 3 }));`;
    const out = execFileSync('prlimit', [`--data=${1024 ** 3}:${1024 ** 3}`, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.trim()).toBe('zstd xz');
  });

  it("holds a later stream's dictionary to the memory limit, past what the front check reads (each tool)", async () => {
    // The front check reads the first block of the first stream; the second stream asks for 512 MiB.
    const bomb = Buffer.concat([execFileSync('xz', ['-c', '-1'], { input: 'hi\n' }), execFileSync('xz', ['-c', '--lzma2=dict=512MiB'], { input: 'hi\n' })]);
    const error = await failure(collect(decompress(chunked(bomb), 'xz', { prefer: 'native' })));
    expect(error).toBeInstanceOf(DecompressionError);
    expect((error as Error).message).toMatch(/exited with status 1 after reading \d+ compressed bytes: the stream needs more memory than the limit of 150994944 bytes \(VENDORSCAN_MAX_WINDOW plus 16777216 for the decoder\)$/);
    expect(withoutZstd('bomb', bomb)).toMatch(/xz -dc --memlimit-decompress=150994944 exited with status 1 .*: xz: \(stdin\): Memory usage limit reached$/);
    // Within the limit, both streams decode.
    const fine = Buffer.concat([execFileSync('xz', ['-c', '-1'], { input: 'hi\n' }), execFileSync('xz', ['-c', '-9'], { input: 'there\n' })]);
    expect((await collect(decompress(chunked(fine), 'xz', { prefer: 'native' }))).toString()).toBe('hi\nthere\n');
  });
});

describe('xz in process reuses its decoder instances', () => {
  it('decodes streams one after another, also after a corrupt and an abandoned one, to the same bytes', async () => {
    const input = compressed.get('xz')!;
    const corrupt = Buffer.from(input);
    for (let i = 100; i < 116; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0xa5;
    for (let round = 0; round < 3; round++) {
      expect((await collect(decompress(chunked(input), 'xz', { prefer: 'js' }))).equals(nar)).toBe(true);
      expect(await failure(collect(decompress(chunked(corrupt), 'xz', { prefer: 'js' })))).toBeInstanceOf(DecompressionError);
      for await (const _ of decompress(chunked(input, randomSizes(3, 4096)), 'xz', { prefer: 'js' })) break;
    }
    const parallel = await Promise.all([1, 2, 3].map(() => collect(decompress(chunked(input, randomSizes(input.length, 700)), 'xz', { prefer: 'js' }))));
    for (const out of parallel) expect(out.equals(nar)).toBe(true);
  });
});

describe('source errors propagate unchanged', () => {
  for (const c of CODECS) {
    for (const engine of ENGINES) {
      it(`${c} (${engine})`, async () => {
        const input = compressed.get(c)!;
        const boom = new Error('connection reset by peer');
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield input.subarray(0, Math.floor(input.length / 2));
          throw boom;
        }
        expect(await failure(collect(decompress(failing(), c, { prefer: engine })))).toBe(boom);
      });
    }
  }
});

describe('a native tool given the compressed file as its stdin', () => {
  for (const c of ['xz', 'zstd', 'bzip2'] as const) {
    it(`${c}: reads the file itself; the source is drained for its checks, not copied in`, async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-fd-')), `nar.${c}`);
      writeFileSync(file, compressed.get(c)!);
      // The source stands for the checks on the way: the real header (the front check reads it),
      // then garbage the tool never sees, counted as it is pulled.
      let drained = 0;
      const seen = Buffer.alloc(200_000, 0x55);
      compressed.get(c)!.copy(seen, 0, 0, 64);
      async function* observed(): AsyncGenerator<Uint8Array> {
        for await (const chunk of chunked(seen, randomSizes(5, 50_000))) {
          drained += chunk.length;
          yield chunk;
        }
      }
      const fd = openSync(file, 'r');
      try {
        expect((await collect(decompress(observed(), c, { prefer: 'native' }, fd))).equals(nar)).toBe(true);
      } finally {
        closeSync(fd);
      }
      expect(drained).toBe(200_000);
    });
  }
  it("the source's error (a failed hash, a refused header) stops the tool and is the one reported", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-fd-')), 'nar.xz');
    writeFileSync(file, compressed.get('xz')!);
    // biome-ignore lint/correctness/useYield: a source that fails on its first read.
    async function* failing(): AsyncGenerator<Uint8Array> {
      throw new Error('FileHash mismatch (test)');
    }
    const fd = openSync(file, 'r');
    try {
      await expect(collect(decompress(failing(), 'xz', { prefer: 'native' }, fd))).rejects.toThrow('FileHash mismatch (test)');
      // The front check still reads the drained bytes: a dictionary over the limit is refused.
      const err = await failure(collect(decompress(chunked(compressed.get('xz')!), 'xz', { prefer: 'native', maxWindowBytes: 1024 }, fd)));
      expect(err).toBeInstanceOf(DecompressionError);
      expect(String(err)).toMatch(/dictionary, over the limit of 1024 bytes/);
    } finally {
      closeSync(fd);
    }
    expect(children(nativeCommand('xz') ?? 'xz')).toEqual([]);
  });
});

/** Children of this process running `command`, with their ps state (Z = zombie). */
function children(command: string): string[] {
  const ps = spawnSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim().endsWith(` ${command}`));
}

describe('early stop by the consumer', () => {
  for (const c of ['xz', 'zstd', 'bzip2'] as const) {
    it(`${c}: kills the child, reaps it, and closes the source`, async () => {
      const input = compressed.get(c)!;
      let sourceClosed = false;
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          yield* chunked(input, randomSizes(3, 4096));
        } finally {
          sourceClosed = true;
        }
      }
      let seen = 0;
      for await (const chunk of decompress(source(), c, { prefer: 'native' })) {
        seen += chunk.length;
        expect(children(nativeCommand(c) ?? c)).toHaveLength(1); // the tool is running now
        break;
      }
      expect(seen).toBeGreaterThan(0);
      expect(children(nativeCommand(c) ?? c)).toEqual([]); // gone: neither running nor a zombie
      await new Promise((r) => setTimeout(r, 50));
      expect(sourceClosed).toBe(true);
    });
  }
});
