// What a reader is handed for one archive level: where it is (for warnings), the caps, the
// walk-wide budget, and where members go. Grammar: none; the contract between readers and walker.
import type { Decompressed, Decompressor } from './bytes.ts';
import type { ArchiveLimits, Budget } from './limits.ts';

export interface ReaderContext {
  /** This archive's display path, e.g. `app.jar!/lib/inner.zip`. */
  readonly path: string;
  readonly limits: ArchiveLimits;
  readonly budget: Budget;
  /** Records `path: what`. */
  warn(what: string): void;
  /**
   * Whether a member of `size` bytes (declared, before any decompression) may be read: walk-wide
   * member and byte caps, per-member cap. Warns and returns false when not.
   */
  admit(name: string, size: number): boolean;
  /** Hands a member on (normalising its name, counting it). False once the walk must stop. */
  emit(name: string, data: Uint8Array): boolean;
  /** bytes.ts decompress(), counting failures against maxFailedDecompressions. */
  decompress(kind: Decompressor, input: Uint8Array, maxOut: number, partial?: boolean): Decompressed;
}

/**
 * What an injected layer decoder returns: the output, cut at `maxOutput` bytes with `overCap`
 * set when there was more (so the first bytes of a large layer can be peeked at), or why the
 * input could not be decoded.
 */
export type LayerDecoded = { ok: true; data: Uint8Array; overCap: boolean } | { ok: false; reason: string };

/**
 * A synchronous decoder for a compression layer node:zlib lacks. It must stop at `maxOutput`
 * bytes and bound its own memory (an xz dictionary): the walker cannot see inside it.
 */
export type LayerDecoder = (input: Uint8Array, maxOutput: number) => LayerDecoded;

/** Decoders for xz and bzip2 layers, given by the caller (the scanner builds them on decompress/). */
export interface LayerDecoders {
  xz?: LayerDecoder;
  bzip2?: LayerDecoder;
}

export interface WalkOptions {
  /** Without a decoder, an xz or bzip2 file is reported as unsupported compression, not opened. */
  layers?: LayerDecoders;
}
