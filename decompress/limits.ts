// Limits checked at the front of decompression, on the compressed bytes, before any decoder sees
// them: whatever engine decodes (a system tool, node:zlib, a JS/WASM decoder), a stream that asks
// for more memory than allowed is refused first. zstd: every frame header's Window_Size (a 37 KB
// NAR may ask for a 1 GiB window); xz: the LZMA2 dictionary of every block header that can be
// found without decoding (each stream's first block; the native tool also gets a memory limit).
import type { Compression } from '../nix/compression.ts';
import { DecompressionError, type Engine } from './decompression-error.ts';

export const DEFAULT_MAX_WINDOW_BYTES = 128 * 1024 * 1024;

const ZSTD_MAGIC = 0xfd2fb528;

/** Passes `source` through unchanged, failing as soon as a zstd frame declares a window over `maxWindow`. */
export async function* zstdWindowGuard(source: AsyncIterable<Uint8Array>, maxWindow: number, engine: Engine): AsyncGenerator<Uint8Array, void, undefined> {
  const walker = new ZstdFrameWalker(maxWindow, engine);
  for await (const chunk of source) {
    walker.feed(chunk);
    // The zstd tool decodes xz, gzip and lz4 too, found by their magic: an xz stream labelled
    // zstd would escape the xz dictionary check (a 1 GiB dictionary decoded in 1 GB of memory).
    if (walker.offReason === 'not-zstd') {
      throw new DecompressionError('zstd', engine, `compressed byte ${walker.offAt} begins neither a zstd frame nor a skippable frame`, { upFront: true });
    }
    yield chunk;
  }
}

/** Where a unit (a frame or a skippable frame) is found to be one kind or the other, ends, or the walk gives up; `at` counts compressed bytes from 0. */
export type ZstdUnitEvent = { type: 'kind'; at: number; skippable: boolean } | { type: 'end'; at: number } | { type: 'off'; at: number };

/**
 * Walks frame and block headers, skipping block contents: a few operations per 128 KB block.
 * With `events`, it also records where each unit's kind is known and where it ends (the in-process
 * decoder cuts the stream into frames with them).
 */
export class ZstdFrameWalker {
  private state: 'magic' | 'skippable-size' | 'frame-header' | 'block-header' | 'skip' | 'off' = 'magic';
  private head: number[] = [];
  private need = 4;
  private skip = 0;
  private afterSkip: 'magic' | 'block-header' = 'magic';
  private checksum = false;
  private offset = 0;
  private readonly maxWindow: number;
  private readonly engine: Engine;
  private readonly events: ZstdUnitEvent[] | undefined;
  constructor(maxWindow: number, engine: Engine, events?: ZstdUnitEvent[]) {
    this.maxWindow = maxWindow;
    this.engine = engine;
    this.events = events;
  }

  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'off') {
      if (this.state === 'skip') {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        this.offset += n;
        if (this.skip === 0) this.expect(this.afterSkip);
        continue;
      }
      this.head.push(chunk[at] ?? 0);
      at++;
      this.offset++;
      if (this.head.length === this.need) this.step();
    }
  }

  private expect(state: 'magic' | 'block-header'): void {
    if (state === 'magic') this.events?.push({ type: 'end', at: this.offset });
    this.state = state;
    this.head = [];
    this.need = state === 'magic' ? 4 : 3;
  }

  /** Why the walk gave up: a unit that is not a zstd or skippable frame, or a reserved block type. */
  offReason: 'not-zstd' | 'reserved' | null = null;

  /** The compressed byte where the unit the walk gave up on begins. */
  offAt = 0;

  private off(reason: 'not-zstd' | 'reserved'): void {
    this.offReason = reason;
    this.offAt = this.offset - (reason === 'not-zstd' ? 4 : 3);
    this.events?.push({ type: 'off', at: this.offset });
    this.state = 'off';
  }

  private skipThen(bytes: number, then: 'magic' | 'block-header'): void {
    this.afterSkip = then;
    if (bytes === 0) {
      this.expect(then);
      return;
    }
    this.state = 'skip';
    this.skip = bytes;
  }

  private step(): void {
    const h = this.head;
    switch (this.state) {
      case 'magic': {
        const magic = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) {
          this.events?.push({ type: 'kind', at: this.offset, skippable: false });
          this.state = 'frame-header';
          this.head = [];
          this.need = 1;
        } else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
          this.events?.push({ type: 'kind', at: this.offset, skippable: true });
          this.state = 'skippable-size';
          this.head = [];
          this.need = 4;
        } else this.off('not-zstd'); // not zstd: the decoder names the error (the guard refuses it first)
        return;
      }
      case 'skippable-size':
        this.skipThen((h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0, 'magic');
        return;
      case 'frame-header': {
        const fhd = h[0]!;
        const fcsFlag = fhd >> 6;
        const single = (fhd & 0x20) !== 0;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
        const total = 1 + (single ? 0 : 1) + dictBytes + fcsBytes;
        if (h.length < total) {
          this.need = total;
          return;
        }
        this.checksum = (fhd & 4) !== 0;
        let window: number;
        if (!single) {
          const wd = h[1]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          const at = 1 + dictBytes;
          window = 0;
          for (let i = fcsBytes - 1; i >= 0; i--) window = window * 256 + h[at + i]!;
          if (fcsBytes === 2) window += 256;
        }
        if (window > this.maxWindow) {
          throw new DecompressionError(
            'zstd',
            this.engine,
            `a frame at compressed byte ${this.offset - total - 4} needs a ${window}-byte window, over the limit of ${this.maxWindow} bytes (VENDORSCAN_MAX_WINDOW)`,
            { upFront: true },
          );
        }
        this.expect('block-header');
        return;
      }
      case 'block-header': {
        const b = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const last = (b & 1) === 1;
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        if (type === 3) {
          this.off('reserved'); // reserved: the decoder names the error
          return;
        }
        const content = type === 1 ? 1 : size;
        if (last) this.skipThen(content + (this.checksum ? 4 : 0), 'magic');
        else this.skipThen(content, 'block-header');
        return;
      }
      default:
        return;
    }
  }
}

/** xz: the LZMA2 dictionary size in the first block header of each stream, over `maxDict` → refused. */
export async function* xzDictionaryGuard(source: AsyncIterable<Uint8Array>, maxDict: number, engine: Engine): AsyncGenerator<Uint8Array, void, undefined> {
  // Stream header (12 bytes) + the first block header (up to 1024 bytes): enough to read its filters.
  let head = Buffer.alloc(0);
  let checked = false;
  for await (const chunk of source) {
    if (!checked) {
      head = Buffer.concat([head, chunk]);
      // Not xz at all: refused here, whichever engine. zstd (decoding xz natively) would also
      // take a zstd, gzip or lz4 frame, which neither xz nor the in-process decoder does.
      if (!startsLikeXz(head)) throw new DecompressionError('xz', engine, 'file format not recognized: the stream does not begin with the xz magic bytes', { upFront: true });
      const verdict = xzFirstDictionary(head);
      if (verdict !== 'more') {
        checked = true;
        if (typeof verdict === 'number' && verdict > maxDict) {
          throw new DecompressionError('xz', engine, `the first block needs a ${verdict}-byte dictionary, over the limit of ${maxDict} bytes (VENDORSCAN_MAX_WINDOW)`, { upFront: true });
        }
      }
    }
    yield chunk;
  }
}

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** Whether `b` begins with the xz magic, or with as much of it as it holds. */
function startsLikeXz(b: Uint8Array): boolean {
  for (let i = 0; i < Math.min(b.length, XZ_MAGIC.length); i++) if (b[i] !== XZ_MAGIC[i]) return false;
  return true;
}

/** The dictionary size, 'more' if the header is not complete yet, or null when it cannot be read (the decoder decides). */
export function xzFirstDictionary(b: Uint8Array): number | null | 'more' {
  if (b.length < 13) return 'more';
  if (!(b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00)) return null;
  const size = (b[12]! + 1) * 4;
  if (b[12] === 0) return null; // an index: no block
  if (b.length < 12 + size) return 'more';
  const flags = b[13]!;
  let at = 14;
  const varint = (): number | null => {
    let v = 0;
    for (let i = 0; i < 9; i++) {
      const byte = b[at++];
      if (byte === undefined) return null;
      v += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return v;
    }
    return null;
  };
  if (flags & 0x40) varint();
  if (flags & 0x80) varint();
  const filters = (flags & 3) + 1;
  for (let f = 0; f < filters; f++) {
    const id = varint();
    const propsSize = varint();
    if (id === null || propsSize === null) return null;
    if (id === 0x21 && propsSize === 1) {
      const p = b[at]!;
      if (p > 40) return null;
      if (p === 40) return 0xffffffff;
      return (2 | (p & 1)) * 2 ** (Math.floor(p / 2) + 11);
    }
    at += propsSize;
  }
  return null;
}

/** The guards for `compression`, applied to the compressed source. */
export function guarded(source: AsyncIterable<Uint8Array>, compression: Compression, engine: Engine, limits: { maxWindowBytes?: number }): AsyncIterable<Uint8Array> {
  const max = limits.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES;
  if (compression === 'zstd') return zstdWindowGuard(source, max, engine);
  if (compression === 'xz') return xzDictionaryGuard(source, max, engine);
  return source;
}
