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
