import type { Compression } from '../nix/compression.ts';
import { VendorscanError } from '../errors/errors.ts';

/** Which implementation decoded the stream: a system tool in a child process, or code in this process. */
export type Engine = 'native' | 'js';

/** The compressed input is invalid (truncated, corrupt, wrong format) or the decoder failed. */
export class DecompressionError extends VendorscanError {
  readonly compression: Compression;
  readonly engine: Engine;
  /** Refused by the front checks on the compressed bytes (limits.ts), not by a decoder: no other decoder would do better. */
  readonly upFront: boolean;
  constructor(
    compression: Compression,
    engine: Engine,
    message: string,
    options?: { cause?: unknown; upFront?: boolean },
  ) {
    super('VS_DECOMPRESSION', 'input', `${compression} decompression (${engine}) failed: ${message}`, options);
    this.compression = compression;
    this.engine = engine;
    this.upFront = options?.upFront ?? false;
  }
}
