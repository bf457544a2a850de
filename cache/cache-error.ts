// A cache request that failed: the URL it named (credentials never included), whether retrying
// can help (5xx, 429, connection errors), and the HTTP status when there was one.
import { VendorscanError } from '../errors/errors.ts';
export class CacheError extends VendorscanError {
  readonly url: string;
  readonly retryable: boolean;
  readonly status?: number;
  constructor(
    message: string,
    url: string,
    retryable: boolean,
    status?: number,
  ) {
    super(status === 404 || status === 403 ? 'VS_CACHE_NOT_FOUND' : 'VS_CACHE_UNAVAILABLE', 'unavailable', message);
    this.url = url;
    this.retryable = retryable;
    this.status = status;
  }
}

/** A cache URL of a scheme no client speaks. */
export class UnsupportedCacheError extends VendorscanError {
  constructor(message: string) {
    super('VS_CACHE_URL', 'usage', message);
  }
}
