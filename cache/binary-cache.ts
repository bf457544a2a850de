// A Nix binary cache, whichever way it is reached: https://…, file:///dir, s3://bucket?….
import type { NarInfo } from '../nix/narinfo.ts';
import type { NixCacheInfo } from '../nix/nix-cache-info.ts';
import { isStorePathHash, StorePathError } from '../nix/store-path.ts';

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
  /** HTTP: the longest a whole NAR download may take, however steadily bytes trickle. Default 30 min. */
  deadlineMs?: number;
  /** HTTP: origins besides the cache's own that narinfo URLs and redirects may lead to (`https://host[:port]`). */
  allowedOrigins?: string[];
  /** HTTP: credentials per host, as Nix's netrc-file gives them (sent as Basic auth to that host only). */
  credentials?: HostCredentials[];
}

export interface HostCredentials {
  host: string;
  login: string;
  password: string;
}

/** The most a narinfo (or nix-cache-info) may hold: real ones are under 2 KB. */
export const MAX_NARINFO_BYTES = 1024 * 1024;

export interface NarDownload {
  body: AsyncIterable<Uint8Array>;
  size: number | null;
  /**
   * When the body is an open regular file (a file:// cache): its descriptor, positioned at the
   * start, for a reader that takes one (a decompressor process, as its stdin); and the same bytes
   * as views of one reused buffer, for whoever only looks at them meanwhile (hashes, checks).
   * Both are valid until `body` ends or is destroyed, which closes the file; `body` need not be read.
   */
  file?: { fd: number; chunks(): AsyncIterable<Uint8Array> };
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

export function narInfoKey(storePathHash: string): string {
  if (!isStorePathHash(storePathHash)) throw new StorePathError(`"${storePathHash}" is not a store path hash`);
  return `${storePathHash}.narinfo`;
}
