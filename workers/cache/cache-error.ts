export class CacheError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}
