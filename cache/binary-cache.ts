// A Nix binary cache, whichever way it is reached: https://…, file:///dir, s3://bucket?….
import type { NarInfo } from '../nix/narinfo.ts';
import type { NixCacheInfo } from '../nix/nix-cache-info.ts';
import { HttpBinaryCache } from './http-binary-cache.ts';
import { FileBinaryCache } from './file-binary-cache.ts';
import { S3BinaryCache } from './s3-binary-cache.ts';

export { CacheError } from './cache-error.ts';

export interface CacheOptions {
  /** Per request: until headers arrive, and the longest silence inside a body. Default 30 s. */
  timeoutMs?: number;
  /** Retries on 5xx, 429 and connection errors. Default 4. */
  retries?: number;
  /** Requests in flight at once; a NAR holds its slot until its body is consumed. Default 16. */
  concurrency?: number;
  /** S3: the requester pays (the NixOS bucket). */
  requesterPays?: boolean;
}

export interface NarDownload {
  body: AsyncIterable<Uint8Array>;
  size: number | null;
}

export interface BinaryCache {
  /** Safe to print: no credentials. */
  readonly url: string;
  cacheInfo(): Promise<NixCacheInfo>;
  /** null when the cache does not have the path (404/403/no such file or key). */
  narInfo(storePathHash: string): Promise<NarInfo | null>;
  /** The compressed NAR at info.url, streamed. */
  openNar(info: NarInfo): Promise<NarDownload>;
  close(): Promise<void>;
}

export function openBinaryCache(url: string, options: CacheOptions = {}): BinaryCache {
  const scheme = /^([a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'http':
    case 'https':
      return new HttpBinaryCache(url, options);
    case 'file':
      return new FileBinaryCache(url);
    case 's3':
      return new S3BinaryCache(url, options);
    default:
      throw new Error(`cache URL "${url}" is not supported: use https://…, file:///dir or s3://bucket?region=…`);
  }
}

export function narInfoKey(storePathHash: string): string {
  if (!/^[0123456789abcdfghijklmnpqrsvwxyz]{32}$/.test(storePathHash)) throw new Error(`"${storePathHash}" is not a store path hash`);
  return `${storePathHash}.narinfo`;
}
