// openBinaryCache(url): the one place that knows every kind of cache, so the interface
// (binary-cache.ts) and the three clients never import each other in a circle.
import type { BinaryCache, CacheOptions } from './binary-cache.ts';
import { HttpBinaryCache } from './http-binary-cache.ts';
import { FileBinaryCache } from './file-binary-cache.ts';
import { S3BinaryCache } from './s3-binary-cache.ts';
import { UnsupportedCacheError } from './cache-error.ts';

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
      throw new UnsupportedCacheError(`cache URL "${url}" is not supported: use https://…, file:///dir or s3://bucket?region=…`);
  }
}


/** A cache URL as it may be shown: a password (or a user alone, as a token) replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:***` : '***'}@`);
}
