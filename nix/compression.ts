// The narinfo `Compression:` field, as Nix writes it (see Nix's makeCompressionSink).
import { VendorscanError } from '../errors/errors.ts';
export type Compression = 'xz' | 'zstd' | 'bzip2' | 'br' | 'gzip' | 'none';

export const COMPRESSIONS: readonly Compression[] = ['xz', 'zstd', 'bzip2', 'br', 'gzip', 'none'];

export class UnsupportedCompressionError extends VendorscanError {
  readonly value: string;
  readonly where: string;
  constructor(
    value: string,
    where: string,
  ) {
    super('VS_COMPRESSION_UNSUPPORTED', 'input', `${where}: unsupported Compression ${JSON.stringify(value)} (known: ${COMPRESSIONS.join(', ')})`);
    this.value = value;
    this.where = where;
  }
}

/** Parses a narinfo Compression value; `where` names its origin (e.g. "<url>.narinfo line 5") for the error. */
export function parseCompression(value: string, where: string): Compression {
  const trimmed = value.trim();
  const found = COMPRESSIONS.find((c) => c === trimmed);
  if (found === undefined) throw new UnsupportedCompressionError(value, where);
  return found;
}
