export class CacheError extends Error {
  readonly url: string;
  readonly retryable: boolean;
  readonly status?: number;
  constructor(
    message: string,
    url: string,
    retryable: boolean,
    status?: number,
  ) {
    super(message);
    this.url = url;
    this.retryable = retryable;
    this.status = status;
  }
}
