// JS engine for xz: the xz-embedded WebAssembly decoder shipped inside the npm package
// `xz-decompress`. Its XzReadableStream wrapper is not used because it serialises every stream of
// the process behind one global mutex (an abandoned stream blocks all later ones) and crashes on
// empty input. We instantiate the same WASM module once per stream instead, so streams are
// independent and their memory goes away with them, and we check that the decoder reached the
// end of the stream, so truncated input is an error. decodeXzBounded drives the same decoder
// synchronously over bytes held in memory, stopping at an output cap (the archive walker's tar.xz
// layers).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LayerDecoded } from '../archive/index.ts';
import { DecompressionError } from './decompression-error.ts';
import { DEFAULT_MAX_WINDOW_BYTES, xzFirstDictionary } from './limits.ts';

// xz_ret codes of xz-embedded (xz.h).
const XZ_OK = 0;
const XZ_STREAM_END = 1;
const XZ_UNSUPPORTED_CHECK = 2;
const XZ_ERRORS: Record<number, string> = {
  3: 'cannot allocate memory (XZ_MEM_ERROR)',
  4: 'dictionary larger than the memory limit (XZ_MEMLIMIT_ERROR)',
  5: 'not in xz format (XZ_FORMAT_ERROR)',
  6: 'unsupported xz options (XZ_OPTIONS_ERROR)',
  7: 'compressed data is corrupt or truncated (XZ_DATA_ERROR)',
  8: 'no progress possible, input truncated (XZ_BUF_ERROR)',
};

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types: the little we use.
interface WasmModule {
  readonly wasmModule: true;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface XzExports {
  memory: { readonly buffer: ArrayBuffer };
  create_context(): number;
  destroy_context(ctx: number): void;
  supply_input(ctx: number, length: number): void;
  /** xz_dec_catrun on the context's buffers; finishes (no more input) when the supplied length was 0. */
  get_next_output(ctx: number): number;
}

/** A decoder error code or a misuse, with its message; the callers turn it into their own error. */
class XzFailure extends Error {}

let compiled: WasmModule | undefined;

/** Instances free for the next stream, per thread (module state is per thread). */
const idleInstances: XzExports[] = [];
const MAX_IDLE_INSTANCES = 4;

function wasmModule(): WasmModule {
  if (compiled) return compiled;
  const file = createRequire(import.meta.url).resolve('xz-decompress');
  const match = /data:application\/wasm;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(file, 'utf8'));
  if (!match?.[1]) throw new Error(`no embedded WebAssembly found in ${file} (xz-decompress layout changed)`);
  compiled = new wasm.Module(Buffer.from(match[1], 'base64'));
  return compiled;
}

/** One xz-embedded decoder. Context layout (u32 words from ctx): bufSize, in, in_pos, in_size, out, out_pos, out_size. */
class XzDecoder {
  private readonly exports: XzExports;
  private readonly ctx: number;
  private readonly bufSize: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  /** Compressed bytes fed so far (for messages). */
  private consumed = 0;
  /** The input ended and so did the stream: nothing was left undecoded. */
  ended = false;
  /**
   * Output wanted from the next run (at most bufSize, its buffer): a run decodes until its output
   * buffer is full, so a caller that needs only the first bytes sets this lower.
   */
  outputRoom = Number.POSITIVE_INFINITY;

  constructor() {
    // An instance whose stream ended is reused: a fresh one costs new WebAssembly memory (its
    // pages faulted in again) on every small NAR, more than decoding one.
    this.exports = idleInstances.pop() ?? (new wasm.Instance(wasmModule(), {}).exports as unknown as XzExports);
    this.ctx = this.exports.create_context();
    const words = this.words();
    this.bufSize = words[0] ?? 0;
    this.inPtr = words[1] ?? 0;
    this.outPtr = words[4] ?? 0;
  }

  private words(): Uint32Array {
    // Re-created each time: the memory's buffer is replaced whenever the WASM heap grows.
    return new Uint32Array(this.exports.memory.buffer, this.ctx, 8);
  }

  /** Hands over up to bufSize bytes; an empty chunk means end of input. */
  supply(chunk: Uint8Array): void {
    new Uint8Array(this.exports.memory.buffer, this.inPtr, chunk.byteLength).set(chunk);
    this.exports.supply_input(this.ctx, chunk.byteLength);
  }

  needsInput(): boolean {
    const w = this.words();
    return w[2] === w[3];
  }

  /** Runs the decoder once; returns the xz_ret code and a copy of the output it produced. */
  run(): { code: number; output: Uint8Array } {
    this.words()[6] = Math.max(1, Math.min(this.bufSize, this.outputRoom));
    const code = this.exports.get_next_output(this.ctx);
    const w = this.words();
    const produced = w[5] ?? 0;
    const output = new Uint8Array(this.exports.memory.buffer, this.outPtr, produced).slice();
    w[5] = 0;
    return { code, output };
  }

  /** Feeds `chunk`, yielding what it decodes to; an error code throws XzFailure. */
  *feed(chunk: Uint8Array): Generator<Uint8Array, void, undefined> {
    for (let at = 0; at < chunk.byteLength; ) {
      const piece = chunk.subarray(at, at + this.bufSize);
      this.supply(piece);
      at += piece.byteLength;
      this.consumed += piece.byteLength;
      do {
        const { code, output } = this.run();
        if (output.byteLength > 0) yield output;
        // catrun only ends a stream once told the input is over, so this means a decoder change.
        if (code === XZ_STREAM_END) throw new XzFailure(`stream ended before input did, at compressed byte ${this.consumed}`);
        this.check(code);
      } while (!this.needsInput());
    }
  }

  /** Tells the decoder the input is over and yields the rest; returns once the stream(s) ended cleanly. */
  *finish(): Generator<Uint8Array, void, undefined> {
    if (this.consumed === 0) throw new XzFailure('empty input, expected an xz stream');
    this.supply(new Uint8Array(0));
    for (let idle = 0; idle < 2; ) {
      const { code, output } = this.run();
      if (output.byteLength > 0) yield output;
      if (code === XZ_STREAM_END) {
        this.ended = true;
        return;
      }
      this.check(code);
      idle = output.byteLength === 0 ? idle + 1 : 0;
    }
    this.check(8);
  }

  private check(code: number): void {
    if (code !== XZ_OK && code !== XZ_UNSUPPORTED_CHECK) throw new XzFailure(`${XZ_ERRORS[code] ?? `xz-embedded error ${code}`} near compressed byte ${this.consumed}`);
  }

  /** `reuse`: the stream ended cleanly, so the instance is known sane and may serve the next one. */
  dispose(reuse: boolean): void {
    this.exports.destroy_context(this.ctx);
    if (reuse && idleInstances.length < MAX_IDLE_INSTANCES) idleInstances.push(this.exports);
  }
}

export async function* decompressXzWasm(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const decoder = new XzDecoder();
  try {
    for await (const chunk of source) yield* decoder.feed(chunk);
    yield* decoder.finish();
  } catch (e) {
    throw e instanceof XzFailure ? new DecompressionError('xz', 'js', e.message) : e;
  } finally {
    decoder.dispose(decoder.ended);
  }
}

/** Output pieces gathered up to a cap: past it, the first `cap` bytes and overCap. */
export class CappedOutput {
  private readonly pieces: Uint8Array[] = [];
  length = 0;
  private readonly cap: number;
  overCap = false;
  constructor(cap: number) {
    this.cap = cap;
  }

  /** Adds `piece`; false once the cap is passed (the rest of it is dropped). */
  add(piece: Uint8Array): boolean {
    const room = this.cap - this.length;
    if (piece.byteLength > room) {
      if (room > 0) this.pieces.push(piece.subarray(0, room));
      this.length = this.cap;
      this.overCap = true;
      return false;
    }
    if (piece.byteLength > 0) this.pieces.push(piece);
    this.length += piece.byteLength;
    return true;
  }

  result(): LayerDecoded {
    return { ok: true, data: this.pieces.length === 1 ? (this.pieces[0] as Uint8Array) : Buffer.concat(this.pieces, this.length), overCap: this.overCap };
  }
}

/**
 * Decodes the xz stream(s) `input`, held whole, synchronously: at most `maxOutput` bytes come
 * back (overCap set when there was more). A stream whose first block asks for a dictionary over
 * `maxDictionaryBytes` is refused before decoding; later blocks are bounded by xz-embedded's own
 * 64 MiB dictionary limit (XZ_MEMLIMIT_ERROR). WebAssembly memory grows only as the dictionary
 * is written, so a small stream declaring a large dictionary costs address space, not memory.
 */
export function decodeXzBounded(input: Uint8Array, maxOutput: number, maxDictionaryBytes = DEFAULT_MAX_WINDOW_BYTES): LayerDecoded {
  if (input.byteLength === 0) return { ok: false, reason: 'empty input, expected an xz stream' };
  const dictionary = xzFirstDictionary(input);
  if (typeof dictionary === 'number' && dictionary > maxDictionaryBytes) {
    return { ok: false, reason: `the first block needs a ${dictionary}-byte dictionary, over the limit of ${maxDictionaryBytes} bytes` };
  }
  const out = new CappedOutput(maxOutput);
  const decoder = new XzDecoder();
  let stopped = false;
  function* all(): Generator<Uint8Array, void, undefined> {
    yield* decoder.feed(input);
    yield* decoder.finish();
  }
  decoder.outputRoom = maxOutput + 1; // one byte more than the cap tells there is more
  try {
    for (const output of all()) {
      if (!out.add(output)) {
        stopped = true; // at the cap, not at an error: the instance is sane
        break;
      }
      decoder.outputRoom = maxOutput + 1 - out.length;
    }
    return out.result();
  } catch (e) {
    if (e instanceof XzFailure) return { ok: false, reason: `xz data: ${e.message}` };
    throw e;
  } finally {
    decoder.dispose(decoder.ended || stopped);
  }
}
