// Every error vendorscan raises on purpose is a VendorscanError: a stable `code` (what went wrong,
// for programs and tests) and a `kind` (whose fault, for the CLI's exit code and the API's status).
// Classes exist per layer (NarFormatError in nix/, CacheError in cache/, …); callers classify by
// `kind`, never by class name. Lowest layer: imported by every other, imports nothing.

/**
 * - `usage`: the command line or request is wrong (exit 2, HTTP 400)
 * - `config`: a rule, signature, advisory, migration or setting is wrong (exit 2, HTTP 400)
 * - `input`: untrusted data broke a rule (a NAR, a narinfo, a compressed stream): one store path fails
 * - `not-found`: what was asked for does not exist (HTTP 404)
 * - `unauthorized`: a token is missing or wrong (HTTP 401)
 * - `unavailable`: something we depend on cannot be reached or opened (exit 1, HTTP 503)
 * - `internal`: a bug or an invariant broken (exit 1, HTTP 500)
 */
export type ErrorKind = 'usage' | 'config' | 'input' | 'not-found' | 'unauthorized' | 'unavailable' | 'internal';

export class VendorscanError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  constructor(code: string, kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.kind = kind;
    this.name = new.target.name;
  }
}

export function isVendorscanError(err: unknown): err is VendorscanError {
  return err instanceof VendorscanError;
}

/** The kind of any thrown value: ours carry one; anything else is internal. */
export function errorKind(err: unknown): ErrorKind {
  return isVendorscanError(err) ? err.kind : 'internal';
}

/** The CLI's exit code for an error that stopped a command. */
export function exitCodeFor(err: unknown): 1 | 2 {
  const kind = errorKind(err);
  return kind === 'usage' || kind === 'config' ? 2 : 1;
}

/** The HTTP status for an error that ends a request. */
export function httpStatusFor(err: unknown): number {
  switch (errorKind(err)) {
    case 'usage':
    case 'config':
      return 400;
    case 'not-found':
      return 404;
    case 'unauthorized':
      return 401;
    case 'unavailable':
      return 503;
    default:
      return 500;
  }
}

/** A message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
