// `nix-cache-info`: the cache's store directory and query hints.
import { VendorscanError } from '../errors/errors.ts';
import { printable } from './printable.ts';

/** A nix-cache-info that breaks its format (untrusted input: the message shows the line escaped). */
export class NixCacheInfoError extends VendorscanError {
  constructor(message: string) {
    super('VS_NIX_CACHE_INFO', 'input', message);
  }
}
export interface NixCacheInfo {
  storeDir: string;
  wantMassQuery: boolean;
  priority: number | null;
  extra: Record<string, string>;
}

export function parseNixCacheInfo(text: string, source: string): NixCacheInfo {
  const info: NixCacheInfo = { storeDir: '/nix/store', wantMassQuery: false, priority: null, extra: {} };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new NixCacheInfoError(`${source} line ${i + 1}: "${printable(line, 80)}" is not a "Key: value" line`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'StoreDir') info.storeDir = value;
    else if (key === 'WantMassQuery') info.wantMassQuery = value === '1';
    else if (key === 'Priority') {
      if (!/^\d+$/.test(value)) throw new NixCacheInfoError(`${source} line ${i + 1}: Priority "${printable(value, 80)}" is not a number`);
      info.priority = Number(value);
    } else info.extra[key] = value;
  });
  return info;
}
