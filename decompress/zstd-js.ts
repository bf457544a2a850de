// In-process engine for zstd: Node's own zstd (node:zlib, libzstd compiled into Node ≥ 23.8),
// which replaced the pure-JS fzstd (133 MB/s; node:zlib decodes at the speed of the zstd tool).
// Used for small NARs, where starting a `zstd` process costs more than decoding, and where the
// tool is missing. node:zlib accepts an input that ends exactly between frames, including no input
// at all, so an empty input is refused here: a NAR is never empty.
import { createZstdDecompress } from 'node:zlib';
import { DecompressionError } from './decompression-error.ts';
import { decompressWithTransform } from './node-transform.ts';

export async function* decompressZstdJs(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let received = 0;
  async function* counted(): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const chunk of source) {
      received += chunk.byteLength;
      yield chunk;
    }
  }
  yield* decompressWithTransform(counted(), 'zstd', 'js', createZstdDecompress());
  if (received === 0) throw new DecompressionError('zstd', 'js', 'empty input, expected a zstd frame');
}
