// s3://bucket?region=R[&endpoint=URL][&requester-pays=true] caches through @aws-sdk/client-s3.
// The NixOS cache's bucket is nix-cache (us-east-1, requester pays). `endpoint` points at any
// S3-compatible server (path-style addressing then). With no credentials configured, requests go
// unsigned, which is what a public bucket wants. The SDK (~150 ms and ~30 MB to load) is imported
// on the first request, so commands and scan threads that never touch S3 do not pay for it.
import type { GetObjectCommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { BinaryCache, CacheOptions, NarDownload } from './binary-cache.ts';
import { narInfoKey } from './binary-cache.ts';
import { CacheError } from './cache-error.ts';
import { Limiter } from './limiter.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseNixCacheInfo, type NixCacheInfo } from '../nix/nix-cache-info.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

function hasCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean((env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) || env['AWS_PROFILE'] || env['AWS_WEB_IDENTITY_TOKEN_FILE'] || env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']);
}

export class S3BinaryCache implements BinaryCache {
  readonly url: string;
  private readonly bucket: string;
  private readonly clientConfig: S3ClientConfig;
  private client: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | null = null;
  private readonly requesterPays: boolean;
  private readonly retry: RetryPolicy;
  private readonly limiter: Limiter;
  private readonly timeoutMs: number;

  constructor(url: string, options: CacheOptions, env: NodeJS.ProcessEnv = process.env) {
    const u = new URL(url);
    this.bucket = u.hostname;
    if (!this.bucket) throw new Error(`cache URL "${url}" names no bucket`);
    const params = u.searchParams;
    const endpoint = params.get('endpoint') ?? undefined;
    const region = params.get('region') ?? 'us-east-1';
    this.requesterPays = options.requesterPays === true || params.get('requester-pays') === 'true';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { retries: options.retries ?? 4, baseDelayMs: 250, maxDelayMs: 8000 };
    this.limiter = new Limiter(options.concurrency ?? 16);
    this.url = `s3://${this.bucket}?region=${region}${endpoint ? `&endpoint=${endpoint}` : ''}`;
    this.clientConfig = {
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // Our own retry policy applies (and names the attempts); the SDK's would multiply it.
      maxAttempts: 1,
      ...(hasCredentials(env)
        ? {}
        : { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (request) => request } }),
      requestHandler: { requestTimeout: this.timeoutMs, connectionTimeout: this.timeoutMs },
    };
  }

  private sdk(): Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: new sdk.S3Client(this.clientConfig) }));
    return this.client;
  }

  async cacheInfo(): Promise<NixCacheInfo> {
    const text = await this.text('nix-cache-info');
    if (text === null) throw new CacheError(`${this.url}: nix-cache-info not found`, this.url, false, 404);
    return parseNixCacheInfo(text, `${this.url}/nix-cache-info`);
  }

  async narInfo(storePathHash: string): Promise<NarInfo | null> {
    const key = narInfoKey(storePathHash);
    const text = await this.text(key);
    return text === null ? null : parseNarInfo(text, `s3://${this.bucket}/${key}`);
  }

  async openNar(info: NarInfo): Promise<NarDownload> {
    return withRetry(this.retry, `s3://${this.bucket}/${info.url}`, async () => {
      const release = await this.limiter.acquire();
      try {
        const out = await this.get(info.url);
        if (out === null) throw new CacheError(`NAR ${info.url} is missing from s3://${this.bucket}`, this.url, false, 404);
        const body = out.Body as Readable;
        body.once('close', release);
        body.once('end', release);
        return { body, size: out.ContentLength ?? null };
      } catch (err) {
        release();
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.client) (await this.client).client.destroy();
  }

  private async text(key: string): Promise<string | null> {
    return withRetry(this.retry, `s3://${this.bucket}/${key}`, async () => {
      const release = await this.limiter.acquire();
      try {
        const out = await this.get(key);
        return out === null ? null : await (out.Body as { transformToString(): Promise<string> }).transformToString();
      } finally {
        release();
      }
    });
  }

  private async get(key: string): Promise<GetObjectCommandOutput | null> {
    const where = `s3://${this.bucket}/${key}`;
    try {
      const { client, sdk } = await this.sdk();
      return await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ...(this.requesterPays ? { RequestPayer: 'requester' as const } : {}) }),
      );
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
      const status = e.$metadata?.httpStatusCode;
      if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404 || status === 403 || e.name === 'AccessDenied') return null;
      const retryable = status === undefined || status >= 500 || status === 429;
      throw new CacheError(`${where}: ${e.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`, this.url, retryable, status);
    }
  }
}
