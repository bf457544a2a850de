// Binary caches over HTTP(S), cache.nixos.org being the main one. Bodies are streamed, never
// buffered; a stalled body times out; 5xx and connection failures are retried with backoff.
import { Readable } from 'node:stream';
import type { BinaryCache, CacheOptions, NarDownload } from './binary-cache.ts';
import { narInfoKey } from './binary-cache.ts';
import { CacheError } from './cache-error.ts';
import { Limiter } from './limiter.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseNixCacheInfo, type NixCacheInfo } from '../nix/nix-cache-info.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

export class HttpBinaryCache implements BinaryCache {
  readonly url: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly limiter: Limiter;

  constructor(url: string, options: CacheOptions) {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    this.url = u.href.replace(/\/+$/, '');
    this.base = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { retries: options.retries ?? 4, baseDelayMs: 250, maxDelayMs: 8000 };
    this.limiter = new Limiter(options.concurrency ?? 16);
  }

  async cacheInfo(): Promise<NixCacheInfo> {
    const text = await this.text('nix-cache-info');
    if (text === null) throw new CacheError(`${this.url}/nix-cache-info not found: is this a Nix binary cache?`, this.url, false, 404);
    return parseNixCacheInfo(text, `${this.url}/nix-cache-info`);
  }

  async narInfo(storePathHash: string): Promise<NarInfo | null> {
    const key = narInfoKey(storePathHash);
    const text = await this.text(key);
    return text === null ? null : parseNarInfo(text, `${this.url}/${key}`);
  }

  async openNar(info: NarInfo): Promise<NarDownload> {
    const url = new URL(info.url, `${this.base}/`).href;
    return withRetry(this.retry, url, async () => {
      const release = await this.limiter.acquire();
      try {
        const { response, controller, timer } = await this.request(url);
        if (response.status === 404 || response.status === 403) {
          throw new CacheError(`NAR ${info.url} is missing from the cache (HTTP ${response.status})`, url, false, response.status);
        }
        if (!response.ok || !response.body) throw statusError(url, response.status);
        const length = response.headers.get('content-length');
        const body = Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]);
        // Stall timer: re-armed on every chunk; a silent body is aborted.
        let stall = setTimeout(() => controller.abort(new Error('body stalled')), this.timeoutMs);
        clearTimeout(timer);
        body.on('data', () => {
          clearTimeout(stall);
          stall = setTimeout(() => controller.abort(new Error('body stalled')), this.timeoutMs);
        });
        body.on('close', () => {
          clearTimeout(stall);
          release();
        });
        return { body: wrapErrors(body, url, this.timeoutMs), size: length === null ? null : Number(length) };
      } catch (err) {
        release();
        throw err;
      }
    });
  }

  async close(): Promise<void> {}

  /** GET a small text file; null on 404/403. */
  private async text(path: string): Promise<string | null> {
    const url = `${this.base}/${path}`;
    return withRetry(this.retry, `${this.url}/${path}`, async () => {
      const release = await this.limiter.acquire();
      try {
        const { response, timer } = await this.request(url);
        try {
          if (response.status === 404 || response.status === 403) {
            await response.body?.cancel();
            return null;
          }
          if (!response.ok) {
            await response.body?.cancel();
            throw statusError(url, response.status);
          }
          return await response.text();
        } finally {
          clearTimeout(timer);
        }
      } catch (err) {
        throw toCacheError(err, url, this.timeoutMs);
      } finally {
        release();
      }
    });
  }

  private async request(url: string): Promise<{ response: Response; controller: AbortController; timer: NodeJS.Timeout }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timed out')), this.timeoutMs);
    try {
      const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
      return { response, controller, timer };
    } catch (err) {
      clearTimeout(timer);
      throw toCacheError(err, url, this.timeoutMs);
    }
  }
}

function statusError(url: string, status: number): CacheError {
  return new CacheError(`HTTP ${status} from ${url}`, url, status >= 500 || status === 429, status);
}

function toCacheError(err: unknown, url: string, timeoutMs: number): CacheError {
  if (err instanceof CacheError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || /timed out|stalled/.test(e.message ?? '')) {
    return new CacheError(`no answer from ${url} within ${timeoutMs} ms`, url, true);
  }
  const why = e.cause?.message ?? e.message ?? String(err);
  return new CacheError(`cannot reach ${url}: ${why}`, url, true);
}

async function* wrapErrors(body: Readable, url: string, timeoutMs: number): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } catch (err) {
    throw toCacheError(err, url, timeoutMs);
  } finally {
    body.destroy();
  }
}
