// Streaming decompression of NARs as served by a binary cache: one entry point for every
// narinfo Compression value, native tools when present (they are several times faster, see
// MEASUREMENTS.md), JS/WASM decoders otherwise. Memory stays bounded: every engine pulls the
// source only as fast as the consumer takes output.
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import { decompressBzip2Js } from './bzip2-js.ts';
import { decompressWithTool } from './child-process.ts';
import type { Compression } from '../nix/compression.ts';
import { DecompressionError, type Engine } from './decompression-error.ts';
import { decompressWithTransform } from './node-transform.ts';
import { nativeCommand, nativeTool, type NativeCodec } from './tools.ts';
import { decompressXzWasm } from './xz-wasm.ts';
import { decompressZstdJs } from './zstd-js.ts';
import { guarded } from './limits.ts';

export { parseCompression, UnsupportedCompressionError, type Compression } from '../nix/compression.ts';
export { DecompressionError, type Engine } from './decompression-error.ts';
export { readOffset } from './child-process.ts';

export interface DecompressOptions {
  /** native: system tool, error if missing; js: in-process decoder; auto (default): native when on PATH. */
  prefer?: 'native' | 'js' | 'auto';
  /** The largest zstd window / xz dictionary a stream may ask for (default 128 MiB): checked before any decoder runs. */
  maxWindowBytes?: number;
  /** xz natively with `xz` itself, not zstd: the second try when zstd refused a stream (see xzSecondTry). */
  plainXz?: boolean;
}

/** The engine `decompress` will use for `compression` (gzip/br are node:zlib, counted as native). */
export function engineFor(compression: Compression, options: DecompressOptions = {}): Engine {
  const prefer = options.prefer ?? 'auto';
  if (compression === 'none') return 'js';
  if (compression === 'gzip' || compression === 'br') return 'native';
  if (prefer === 'js') return 'js';
  if (prefer === 'native') return 'native';
  return nativeCommand(compression, options) !== null ? 'native' : 'js';
}

/** Whether `decompress` hands `inputFd` to a tool for `compression` (and only drains `source`, keeping none of its chunks). */
export function readsInputFd(compression: Compression, options: DecompressOptions = {}): boolean {
  return (compression === 'xz' || compression === 'zstd' || compression === 'bzip2') && engineFor(compression, options) === 'native';
}

/**
 * The options for decoding again with `xz` itself, when `error` came from zstd decoding xz and
 * `xz` is on PATH; else null. zstd and xz do not refuse the same streams (zstd takes no stream
 * padding after an xz stream; a hard RLIMIT_DATA under the limit stops prlimit), so a stream zstd
 * refused is decoded again by xz: what fails, fails as xz says. Only failures pay for it.
 */
export function xzSecondTry(error: unknown, options: DecompressOptions = {}): DecompressOptions | null {
  if (!(error instanceof DecompressionError) || error.compression !== 'xz' || error.engine !== 'native' || error.upFront) return null;
  if (options.plainXz || nativeCommand('xz', options) !== 'zstd' || nativeCommand('xz', { ...options, plainXz: true }) !== 'xz') return null;
  return { ...options, plainXz: true };
}

function jsDecoder(compression: NativeCodec, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  switch (compression) {
    case 'xz':
      return decompressXzWasm(source);
    case 'zstd':
      return decompressZstdJs(source);
    case 'bzip2':
      return decompressBzip2Js(source);
  }
}

async function* passThrough(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  yield* source;
}

/**
 * Decompresses `source` chunk by chunk. Errors in the compressed data raise DecompressionError;
 * errors of `source` propagate unchanged. `inputFd`: the same compressed bytes as an open regular
 * file positioned at their start; a native tool then reads them from it, and `source` is still
 * drained (what it does on the way, hashing and the front checks, runs) but not copied into the
 * tool. Other engines ignore it. The descriptor must stay open until the first chunk is asked for.
 */
export function decompress(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  options: DecompressOptions = {},
  inputFd?: number,
): AsyncIterable<Uint8Array> {
  switch (compression) {
    case 'none':
      return passThrough(source);
    case 'gzip':
      return decompressWithTransform(source, compression, 'native', createGunzip());
    case 'br':
      return decompressWithTransform(source, compression, 'native', createBrotliDecompress());
    case 'xz':
    case 'zstd':
    case 'bzip2': {
      const engine = engineFor(compression, options);
      const checked = guarded(source, compression, engine, options);
      if (engine === 'js') return jsDecoder(compression, checked);
      const tool = nativeTool(compression, options);
      if (tool === null) return missingTool(compression);
      return decompressWithTool(checked, compression, tool, inputFd);
    }
  }
}

// biome-ignore lint/correctness/useYield: a stream that fails on its first read, like the engines it stands for.
async function* missingTool(compression: Compression): AsyncGenerator<Uint8Array, void, undefined> {
  const wanted = compression === 'xz' ? '`xz` (or `zstd` with `prlimit`)' : `\`${compression}\``;
  throw new DecompressionError(compression, 'native', `native engine requested but ${wanted} is not on PATH`);
}
