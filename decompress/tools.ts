// Which system decompressors exist, and the command line each codec's native engine runs, with
// its memory limit.
//
// xz is decoded by `zstd` when zstd can (Debian's and most distributions' zstd is built with
// liblzma: the same decoder as `xz`), run under `prlimit --data`. `xz -dc` writes its output 8 KiB
// at a time, so a 297 MB NAR was ~35,000 reads of a socket for this process, each a wake-up on
// both sides; zstd writes 128 KiB (~4,900 reads). Measured: 0.7 CPU-s less per 297 MB in a bare
// pipe (4.5-4.7 vs 3.8-3.9 s for decoder and reader), 0.7 less per 696 MB in the big-NAR bench,
// though zstd's own decoding takes ~2 % more (docs/performance.md). zstd gives liblzma no
// memory limit of its own (xz had --memlimit-decompress), so the kernel's data-segment limit
// (RLIMIT_DATA, which counts the dictionary's anonymous mapping) stands in for it: a stream that
// asks for more fails with liblzma's "decoding error 5" (LZMA_MEM_ERROR), said in our words.
// Without zstd, prlimit or zstd's xz support, `xz -dc` runs as before.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Tool } from './child-process.ts';

export type NativeCodec = 'xz' | 'zstd' | 'bzip2';

/** Decoders beside a dictionary or window: their buffers, tables, and (zstd) the program's own data. */
const DECODER_MARGIN = 16 * 1024 * 1024;

const found = new Map<string, boolean>();

/** Whether `command` is an executable file in a $PATH directory (cached per process). */
export function onPath(command: string): boolean {
  const known = found.get(command);
  if (known !== undefined) return known;
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== '');
  const exists = dirs.some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  found.set(command, exists);
  return exists;
}

/** `printf 'ok\n' | xz -c`: what the probe asks zstd to decode. */
const PROBE_XZ = Buffer.from('/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQACb2sKAACQmF6n+w2iWwABGwMLL7kQH7bzfQEAAAAABFla', 'base64');
let zstdXz: boolean | undefined;
/** --no-asyncio: one thread; zstd's I/O thread pool cannot even start under a data limit of 16 MiB. */
const ZSTD_XZ_ARGS = ['-dcq', '--no-asyncio'] as const;

/** Whether zstd decodes xz here, under prlimit: asked once per process (one ~5 ms run, only when an xz NAR goes to a tool). */
function zstdDecodesXz(): boolean {
  if (zstdXz === undefined) {
    zstdXz = false;
    if (onPath('zstd') && onPath('prlimit')) {
      const probe = spawnSync('prlimit', [`--data=${DECODER_MARGIN}`, 'zstd', ...ZSTD_XZ_ARGS], { input: PROBE_XZ, timeout: 10_000, maxBuffer: 1024 });
      zstdXz = probe.status === 0 && probe.stdout.toString() === 'ok\n';
    }
  }
  return zstdXz;
}

/**
 * The program the native engine runs for `codec` (xz: zstd when it can, else xz), or null when
 * none is on PATH. `plainXz`: xz itself, as the second try after zstd failed (see decompress.ts).
 */
export function nativeCommand(codec: NativeCodec, plainXz = false): string | null {
  if (codec === 'xz' && !plainXz && zstdDecodesXz()) return 'zstd';
  return onPath(codec) ? codec : null;
}

/** liblzma's status codes as zstd prints them ("lzma_code decoding error 9"), in xz's words. */
const LZMA_ERRORS: Record<string, string> = {
  '7': 'file format not recognized',
  '8': 'unsupported options',
  '9': 'compressed data is corrupt',
  '10': 'unexpected end of input',
};

/** The native engine's command line for `codec`, with a memory limit matching the front check's `maxWindow`; null when no tool is on PATH. */
export function nativeTool(codec: NativeCodec, maxWindow: number, plainXz = false): Tool | null {
  const command = nativeCommand(codec, plainXz);
  if (command === null) return null;
  const limit = maxWindow + DECODER_MARGIN;
  if (codec === 'zstd') return { command: 'zstd', args: ['-dc', `--memory=${maxWindow}`] };
  if (codec === 'bzip2') return { command: 'bzip2', args: ['-dc'] };
  if (command === 'xz') return { command: 'xz', args: ['-dc', `--memlimit-decompress=${limit}`] };
  return {
    command: 'prlimit',
    args: [`--data=${limit}`, 'zstd', ...ZSTD_XZ_ARGS],
    label: `zstd ${ZSTD_XZ_ARGS.join(' ')} (data limited to ${limit} bytes)`,
    explain: (said) => {
      if (/decoding error 5\b|Allocation error|not enough memory/.test(said)) return `the stream needs more memory than the limit of ${limit} bytes (VENDORSCAN_MAX_WINDOW plus ${DECODER_MARGIN} for the decoder)`;
      const code = /lzma_code decoding error (\d+)/.exec(said)?.[1];
      if (code !== undefined && LZMA_ERRORS[code]) return `${LZMA_ERRORS[code]} (${said})`;
      if (/premature lzma end/.test(said)) return `unexpected end of input (${said})`;
      return said;
    },
  };
}
