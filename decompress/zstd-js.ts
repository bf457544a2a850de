// JS engine for zstd: fzstd's streaming decoder. fzstd accepts input that stops at a frame
// boundary (including empty input), so we require at least one complete frame; it also skips
// frame checksums without verifying them.
import { Decompress } from 'fzstd';
import { DecompressionError } from './decompression-error.ts';

// fzstd decodes everything it is given in one synchronous call: 4 kB of zeros is ~130 MB of
// output. So input goes in slices sized from the compression ratio seen so far, to keep each
// call's output near this target, and the consumer sets the pace between calls.
const TARGET_OUTPUT = 4 * 1024 * 1024;
const MIN_SLICE = 64;
const MAX_SLICE = 256 * 1024;

export async function* decompressZstdJs(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let sawFinal = false;
  const decoder = new Decompress((data, final) => {
    if (data.byteLength > 0) {
      pending.push(data);
      pendingBytes += data.byteLength;
    }
    if (final) sawFinal = true;
  });
  let consumed = 0;
  let slice = MIN_SLICE; // until the ratio is known
  // Decayed totals: the recent ratio, not skewed by one push that completes a buffered block.
  let recentIn = 0;
  let recentOut = 0;
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      decoder.push(chunk, final);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new DecompressionError('zstd', 'js', `${message} near compressed byte ${consumed}`, { cause: error });
    }
  };
  for await (const chunk of source) {
    for (let at = 0; at < chunk.byteLength; ) {
      const piece = chunk.subarray(at, at + slice);
      at += piece.byteLength;
      consumed += piece.byteLength;
      push(piece, false);
      recentIn = recentIn * 0.75 + piece.byteLength;
      recentOut = recentOut * 0.75 + pendingBytes;
      const ratio = Math.max(1, recentOut / recentIn);
      slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor(TARGET_OUTPUT / ratio)));
      const ready = pending;
      pending = [];
      pendingBytes = 0;
      yield* ready;
    }
  }
  if (consumed === 0) throw new DecompressionError('zstd', 'js', 'empty input, expected a zstd frame');
  push(new Uint8Array(0), true);
  yield* pending;
  if (!sawFinal) throw new DecompressionError('zstd', 'js', `input ended inside a frame after ${consumed} compressed bytes`);
}
