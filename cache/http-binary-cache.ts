// Binary caches over HTTP(S), cache.nixos.org being the main one. Bodies are streamed, never
// buffered; a stalled body times out and a whole download has a deadline; 5xx and connection
// failures are retried with backoff. Untrusted answers are bounded: a narinfo is read up to 1 MiB;
// narinfo URLs and redirects stay on the cache's origin unless configured; credentials (from the
// cache URL or a netrc file) go as Basic auth to the cache's host only and never appear in messages.
import { Readable } from 'node:stream';
import type { BinaryCache, CacheOptions, HostCredentials, NarDownload } from './binary-cache.ts';
import { MAX_NARINFO_BYTES, narInfoKey } from './binary-cache.ts';
import { CacheError } from './cache-error.ts';
import { Limiter } from './limiter.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseNixCacheInfo, type NixCacheInfo } from '../nix/nix-cache-info.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

const MAX_REDIRECTS = 5;
const DEFAULT_DEADLINE_MS = 30 * 60 * 1000;

export class HttpBinaryCache implements BinaryCache {
  readonly url: string;
  private readonly origin: string;
  private readonly allowedOrigins: Set<string>;
  private readonly authorization: string | null;
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
  private readonly limiter: Limiter;

  constructor(url: string, options: CacheOptions) {
    const u = new URL(url);
    const fromUrl = u.username || u.password ? { login: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : null;
    u.username = '';
    u.password = '';
    this.url = u.href.replace(/\/+$/, '');
    this.origin = u.origin;
    this.allowedOrigins = new Set([u.origin, ...(options.allowedOrigins ?? []).map((o) => new URL(o).origin)]);
    const creds = fromUrl ?? findCredentials(options.credentials ?? [], u.hostname);
    this.authorization = creds ? `Basic ${Buffer.from(`${creds.login}:${creds.password}`).toString('base64')}` : null;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
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
    const url = new URL(info.url, `${this.url}/`).href;
    this.checkOrigin(url, `the narinfo of ${info.storePath} names URL ${info.url}`);
    return withRetry(this.retry, url, async () => {
      const release = await this.limiter.acquire();
      try {
        const { response, controller, timer } = await this.request(url);
        if (response.status === 404 || response.status === 403) {
          clearTimeout(timer);
          await response.body?.cancel().catch(() => undefined);
          throw new CacheError(`NAR ${info.url} is missing from the cache (HTTP ${response.status})`, url, false, response.status);
        }
        if (!response.ok || !response.body) {
          clearTimeout(timer);
          await response.body?.cancel().catch(() => undefined);
          throw statusError(url, response.status);
        }
        const length = response.headers.get('content-length');
        const body = Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]);
        // Stall timer: re-armed on every chunk; a silent body is aborted. Deadline: the whole body.
        let stall = setTimeout(() => controller.abort(new Error('body stalled')), this.timeoutMs);
        const deadline = setTimeout(() => controller.abort(new Error(`download deadline of ${this.deadlineMs} ms passed`)), this.deadlineMs);
        clearTimeout(timer);
        body.on('data', () => {
          clearTimeout(stall);
          stall = setTimeout(() => controller.abort(new Error('body stalled')), this.timeoutMs);
        });
        body.on('close', () => {
          clearTimeout(stall);
          clearTimeout(deadline);
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

  /** GET a small text file (at most MAX_NARINFO_BYTES, within timeoutMs in all); null on 404/403. */
  private async text(path: string): Promise<string | null> {
    const url = `${this.url}/${path}`;
    return withRetry(this.retry, url, async () => {
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
          return await boundedText(response, url);
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

  /** Redirects are followed by hand: each hop must stay on an allowed origin, and credentials go to the cache's own only. */
  private async request(first: string): Promise<{ response: Response; controller: AbortController; timer: NodeJS.Timeout }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timed out')), this.timeoutMs);
    try {
      let url = first;
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = {};
        if (this.authorization && new URL(url).origin === this.origin) headers['authorization'] = this.authorization;
        const response = await fetch(url, { signal: controller.signal, redirect: 'manual', headers });
        const location = response.headers.get('location');
        if (response.status < 300 || response.status >= 400 || location === null) return { response, controller, timer };
        await response.body?.cancel().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new CacheError(`more than ${MAX_REDIRECTS} redirects from ${first}`, first, false);
        const next = new URL(location, url).href;
        this.checkOrigin(next, `${url} redirects to ${next}`);
        url = next;
      }
    } catch (err) {
      clearTimeout(timer);
      throw toCacheError(err, first, this.timeoutMs);
    }
  }

  private checkOrigin(url: string, what: string): void {
    const origin = new URL(url).origin;
    if (!this.allowedOrigins.has(origin)) {
      throw new CacheError(`${what}, outside the cache's origin ${this.origin}: refused (VENDORSCAN_ALLOWED_ORIGINS lists origins that may be followed)`, url, false);
    }
  }
}

function findCredentials(all: HostCredentials[], host: string): HostCredentials | null {
  return all.find((c) => c.host === host) ?? all.find((c) => c.host === '*') ?? null;
}

/** The body as text, refused past MAX_NARINFO_BYTES (a body that never ends must not fill memory). */
async function boundedText(response: Response, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_NARINFO_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(url);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_NARINFO_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(url: string): CacheError {
  return new CacheError(`${url} is larger than ${MAX_NARINFO_BYTES} bytes: not a narinfo`, url, false);
}

function statusError(url: string, status: number): CacheError {
  return new CacheError(`HTTP ${status} from ${url}`, url, status >= 500 || status === 429, status);
}

function toCacheError(err: unknown, url: string, timeoutMs: number): CacheError {
  if (err instanceof CacheError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (/deadline/.test(e.message ?? '') || /deadline/.test(e.cause?.message ?? '')) {
    return new CacheError(`${url}: ${e.cause?.message ?? e.message}`, url, false);
  }
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
