// `nix-cache-info`: the cache's store directory and query hints.
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
    if (colon <= 0) throw new Error(`${source} line ${i + 1}: "${line}" is not a "Key: value" line`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'StoreDir') info.storeDir = value;
    else if (key === 'WantMassQuery') info.wantMassQuery = value === '1';
    else if (key === 'Priority') {
      if (!/^\d+$/.test(value)) throw new Error(`${source} line ${i + 1}: Priority "${value}" is not a number`);
      info.priority = Number(value);
    } else info.extra[key] = value;
  });
  return info;
}
