// JS engine for bzip2: the block decoder of `unbzip2-stream`, driven one block at a time.
// Its stream wrapper is not used: it decodes everything it holds in one synchronous call (all of
// a small, highly compressed input at end()), building each block as a JS array of numbers, so
// its memory grows with the output. Here output is at most one block (≤ 900 kB before the
// initial run-length step, a few tens of MB in the worst case), in compact buffers, and the
// consumer sets the pace between blocks. decodeBzip2Bounded runs the same block decoder over
// bytes held in memory, synchronously, stopping at an output cap (the archive walker's tar.bz2
// layers).
import bzip2 from 'unbzip2-stream/lib/bzip2.js';
import bitIterator from 'unbzip2-stream/lib/bit_iterator.js';
import type { LayerDecoded } from '../archive/index.ts';
import { DecompressionError } from './decompression-error.ts';
import { CappedOutput } from './xz-wasm.ts';

const OUT_CHUNK = 256 * 1024;

/** Collects the decoder's bytes into fixed-size buffers. */
class Output {
  chunks: Uint8Array[] = [];
  private current = new Uint8Array(OUT_CHUNK);
  private used = 0;
  readonly put = (byte: number): void => {
    this.current[this.used++] = byte;
    if (this.used === OUT_CHUNK) {
      this.chunks.push(this.current);
      this.current = new Uint8Array(OUT_CHUNK);
      this.used = 0;
    }
  };
  take(): Uint8Array[] {
    if (this.used > 0) {
      this.chunks.push(this.current.slice(0, this.used));
      this.used = 0;
    }
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }
}

/** unbzip2-stream's messages that say what is wrong; its other checks throw jokes ("moo i'm a cow"). */
const MEANINGFUL = /magic|BZIP|crc32|obsolete|Initial position/;

/** What a decoder exception means. `ended`: all input was given, so running off its end is truncation. */
function bzip2Message(error: unknown, ended: boolean): string {
  // Its bit reader walks off the end of the input as a TypeError.
  if (error instanceof TypeError && ended) return 'compressed data ends unexpectedly (truncated input)';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError || MEANINGFUL.test(message)) return message;
  return `corrupt block data (a consistency check of the decoder failed: ${JSON.stringify(message)})`;
}

export async function* decompressBzip2Js(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const queue: Uint8Array[] = [];
  let received = 0;
  let bits: ReturnType<typeof bitIterator> | undefined;
  let blockSize = 0; // 0: expecting a stream header
  let streamCRC: number | null = null; // null: between streams
  let work: Int32Array | undefined;
  const output = new Output();

  const fail = (error: unknown, ended: boolean): DecompressionError =>
    new DecompressionError('bzip2', 'js', `${bzip2Message(error, ended)} (near compressed byte ${bits?.bytesRead ?? 0} of ${received})`, { cause: error });
  /** Decodes one header or block; the decoder cannot pause, so it needs the whole block buffered. */
  const step = (ended: boolean): boolean => {
    if (!bits) return false;
    const unread = received - bits.bytesRead;
    if (unread <= 0 || (!ended && unread + 1 < (blockSize ? 25000 + 100000 * blockSize : 4))) return false;
    try {
      if (!blockSize) {
        blockSize = bzip2.header(bits);
        streamCRC = 0;
        work = new Int32Array(100000 * blockSize);
      } else if (work) {
        streamCRC = bzip2.decompress(bits, output.put, work, work.length, streamCRC ?? 0);
        if (streamCRC === null) blockSize = 0; // end of stream; another may follow
      }
    } catch (error) {
      throw fail(error, ended);
    }
    return true;
  };

  for await (const chunk of source) {
    if (chunk.byteLength === 0) continue;
    queue.push(chunk);
    received += chunk.byteLength;
    bits ??= bitIterator(() => queue.shift());
    while (step(false)) yield* output.take();
  }
  if (received === 0) throw new DecompressionError('bzip2', 'js', 'empty input, expected a bzip2 stream');
  while (step(true)) yield* output.take();
  if (streamCRC !== null) {
    throw new DecompressionError('bzip2', 'js', `input ended inside a stream after ${received} compressed bytes (truncated input)`);
  }
}

/**
 * Decodes the bzip2 stream(s) `input`, held whole, synchronously: at most `maxOutput` bytes come
 * back (overCap set when there was more). The block that reaches the cap is still decoded to its
 * end, its bytes past the cap dropped, because bzip2 checks a block's CRC only there: stopping at
 * the cap handed back unchecked bytes, and a corrupt block looked like "not a tar" to the walker's
 * 4 KiB peek (no warning). At most one block more is decoded (≤ 900 kB in, ~46 MB out at worst);
 * its own memory is one block's work array (≤ 3.6 MB).
 */
export function decodeBzip2Bounded(input: Uint8Array, maxOutput: number): LayerDecoded {
  if (input.byteLength === 0) return { ok: false, reason: 'empty input, expected a bzip2 stream' };
  const out = new CappedOutput(maxOutput);
  const output = new Output();
  let held = 0;
  let over = false;
  const put = (byte: number): void => {
    if (held === maxOutput) {
      over = true;
      return;
    }
    held++;
    output.put(byte);
  };
  let given = false;
  const bits = bitIterator(() => {
    if (given) return undefined;
    given = true;
    return input;
  });
  let blockSize = 0;
  let streamCRC: number | null = null;
  let work: Int32Array | undefined;
  try {
    while (bits.bytesRead < input.byteLength) {
      if (!blockSize) {
        blockSize = bzip2.header(bits);
        streamCRC = 0;
        work = new Int32Array(100000 * blockSize);
      } else if (work) {
        streamCRC = bzip2.decompress(bits, put, work, work.length, streamCRC ?? 0);
        if (streamCRC === null) blockSize = 0;
        for (const piece of output.take()) out.add(piece);
        if (over) {
          // The block that passed the cap checked out: stop here.
          out.add(new Uint8Array(1)); // a byte past the cap: the result says overCap
          return out.result();
        }
      }
    }
  } catch (error) {
    return { ok: false, reason: `bzip2 data: ${bzip2Message(error, true)} (near compressed byte ${bits.bytesRead} of ${input.byteLength})` };
  }
  if (streamCRC !== null) return { ok: false, reason: `bzip2 data: input ended inside a stream after ${input.byteLength} compressed bytes (truncated input)` };
  return out.result();
}
