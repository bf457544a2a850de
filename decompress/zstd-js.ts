// In-process engine for zstd: Node's own zstd (node:zlib, libzstd compiled into Node ≥ 23.8),
// which replaced the pure-JS fzstd (133 MB/s; node:zlib decodes at the speed of the zstd tool).
// Used for small NARs, where starting a `zstd` process costs more than decoding, and where the
// tool is missing.
//
// node:zlib's decoder stops after the first frame (the rest of the input is ignored, silently) and
// yields nothing after a skippable frame, while a zstd stream is any sequence of frames and
// skippable frames (RFC 8878 §3.1; `zstd` writes one frame per input file, `cat a.zst b.zst` is
// valid, and seekable-format writers emit many frames plus a skippable seek table). So the input is
// cut into frames by the header walker of limits.ts (it reads frame and block headers only) and
// each frame goes to a decoder of its own; skippable frames are dropped. When the walker cannot
// follow (not zstd, a reserved block type), the rest goes to the current decoder, which names the
// error. node:zlib also accepts an input that ends exactly between frames, including no input at
// all, so an empty input is refused here: a NAR is never empty.
import { createZstdDecompress } from 'node:zlib';
import { DecompressionError } from './decompression-error.ts';
import { ZstdFrameWalker, type ZstdUnitEvent } from './limits.ts';
import { decompressWithTransform } from './node-transform.ts';

const FRAME_END = Symbol('frame end');
type Piece = Uint8Array | typeof FRAME_END;

/**
 * The compressed bytes of `source` as the bytes of each frame, each frame followed by FRAME_END;
 * skippable frames are left out. The window limit is the guard's job (limits.ts), not this walk's.
 */
export async function* zstdFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<Piece, void, undefined> {
  const events: ZstdUnitEvent[] = [];
  const walker = new ZstdFrameWalker(Number.POSITIVE_INFINITY, 'js', events);
  // The kind of the current unit: unknown until its 4-byte magic has been read (those bytes are held).
  let kind: 'unknown' | 'frame' | 'skippable' | 'rest' = 'unknown';
  let held: Uint8Array[] = [];
  let base = 0;
  for await (const chunk of source) {
    events.length = 0;
    walker.feed(chunk);
    const out: Piece[] = [];
    const route = (piece: Uint8Array): void => {
      if (piece.length === 0) return;
      if (kind === 'unknown') held.push(piece);
      else if (kind !== 'skippable') out.push(piece);
    };
    let cursor = 0;
    for (const event of events) {
      route(chunk.subarray(cursor, event.at - base));
      cursor = event.at - base;
      if (event.type === 'end') {
        if (kind === 'frame') out.push(FRAME_END);
        kind = 'unknown';
      } else {
        kind = event.type === 'off' ? 'rest' : event.skippable ? 'skippable' : 'frame';
        if (kind !== 'skippable') out.push(...held);
        held = [];
      }
    }
    route(chunk.subarray(cursor));
    base += chunk.length;
    yield* out;
  }
  // A partial magic at the end, or a frame cut short: the decoder gets it and names the error.
  yield* held;
  if (kind === 'frame' || kind === 'rest' || held.length > 0) yield FRAME_END;
}

export async function* decompressZstdJs(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let received = 0;
  async function* counted(): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const chunk of source) {
      received += chunk.byteLength;
      yield chunk;
    }
  }
  const pieces = zstdFrames(counted())[Symbol.asyncIterator]();
  try {
    for (;;) {
    const first = await pieces.next();
    if (first.done) break;
    if (first.value === FRAME_END) continue;
    const opening = first.value;
    async function* frame(): AsyncGenerator<Uint8Array, void, undefined> {
      yield opening;
      for (;;) {
        const next = await pieces.next();
        if (next.done || next.value === FRAME_END) return;
        yield next.value;
      }
    }
    yield* decompressWithTransform(frame(), 'zstd', 'js', createZstdDecompress());
    }
  } finally {
    // The source's own clean-up (an HTTP body, a file) runs whether decoding ended or failed.
    await pieces.return(undefined);
  }
  if (received === 0) throw new DecompressionError('zstd', 'js', 'empty input, expected a zstd frame');
}
