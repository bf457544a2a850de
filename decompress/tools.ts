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
import { DEFAULT_MAX_WINDOW_BYTES } from './limits.ts';

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
const zstdXz = new Map<number, boolean>();
/** --no-asyncio: one thread; zstd's I/O thread pool cannot even start under a data limit of 16 MiB. */
const ZSTD_ARGS = ['-dcq', '--no-asyncio'] as const;

/**
 * Whether zstd decodes xz here under `prlimit --data=limit`: asked once per process and limit (a
 * ~5 ms run, only when an xz NAR goes to a tool). With the limit itself, so that a hard
 * RLIMIT_DATA below it (prlimit cannot raise it) means xz, not a failed first try on every path.
 */
function zstdDecodesXz(limit: number): boolean {
  let known = zstdXz.get(limit);
  if (known === undefined) {
    known = false;
    if (onPath('zstd') && onPath('prlimit')) {
      const probe = spawnSync('prlimit', [`--data=${limit}`, 'zstd', ...ZSTD_ARGS], { input: PROBE_XZ, timeout: 10_000, maxBuffer: 1024 });
      known = probe.status === 0 && probe.stdout.toString() === 'ok\n';
    }
    zstdXz.set(limit, known);
  }
  return known;
}

export interface ToolChoice {
  /** xz itself, as the second try after zstd refused a stream (see decompress.ts). */
  plainXz?: boolean;
  /** The front check's limit (default 128 MiB); the tools get it plus DECODER_MARGIN. */
  maxWindowBytes?: number;
}

/** The program the native engine runs for `codec` (xz: zstd when it can, else xz), or null when none is on PATH. */
export function nativeCommand(codec: NativeCodec, choice: ToolChoice = {}): string | null {
  if (codec === 'xz' && !choice.plainXz && zstdDecodesXz(dataLimit(choice))) return 'zstd';
  return onPath(codec) ? codec : null;
}

function dataLimit(choice: ToolChoice): number {
  return (choice.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES) + DECODER_MARGIN;
}

/** liblzma's status codes as zstd prints them ("lzma_code decoding error 9"), in xz's words. */
const LZMA_ERRORS: Record<string, string> = {
  '7': 'file format not recognized',
  '8': 'unsupported options',
  '9': 'compressed data is corrupt',
  '10': 'unexpected end of input',
};

/**
 * The native engine's command line for `codec`, with a memory limit matching the front check's
 * `maxWindowBytes`; null when no tool is on PATH. zstd runs under prlimit for its own format too
 * where prlimit exists: the front check runs beside a tool that reads a file itself, not always
 * before it, and `--memory` bounds zstd frames only (the tool also decodes xz, gzip and lz4).
 */
export function nativeTool(codec: NativeCodec, choice: ToolChoice = {}): Tool | null {
  const command = nativeCommand(codec, choice);
  if (command === null) return null;
  const maxWindow = choice.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES;
  const limit = dataLimit(choice);
  if (codec === 'bzip2') return { command: 'bzip2', args: ['-dc'] };
  if (command === 'xz') return { command: 'xz', args: ['-dc', `--memlimit-decompress=${limit}`] };
  const args = codec === 'zstd' ? [...ZSTD_ARGS, `--memory=${maxWindow}`] : [...ZSTD_ARGS];
  if (codec === 'zstd' && !onPath('prlimit')) return { command: 'zstd', args };
  return {
    command: 'prlimit',
    args: [`--data=${limit}`, 'zstd', ...args],
    label: `zstd ${args.join(' ')} (data limited to ${limit} bytes)`,
    explain: (said) => {
      if (/decoding error 5\b|Allocation error|not enough memory/.test(said)) return `the stream needs more memory than the limit of ${limit} bytes (VENDORSCAN_MAX_WINDOW plus ${DECODER_MARGIN} for the decoder)`;
      const code = /lzma_code decoding error (\d+)/.exec(said)?.[1];
      if (code !== undefined && LZMA_ERRORS[code]) return `${LZMA_ERRORS[code]} (${said})`;
      if (/premature lzma end/.test(said)) return `unexpected end of input (${said})`;
      return said;
    },
  };
}
