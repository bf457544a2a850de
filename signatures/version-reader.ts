// Reads a library version out of a rule's matched bytes, as its meta declares. A text that does
// not look like a version is kept verbatim (versionRaw) with version null: never dropped.
import type { SignatureMeta } from './signature-meta.ts';

/**
 * Bump when a version reader (or the version grammar it feeds) reads the same bytes differently:
 * the ruleset digest changes, so the next run rescans instead of linking findings read the old way.
 */
export const VERSION_READERS_REVISION = 3;

export interface MatchedBytes {
  identifier: string;
  offset: number;
  data: Uint8Array;
}

export interface ReadVersion {
  version: string | null;
  raw: string | null;
}

const VERSION = /^[0-9]+(\.[0-9]+)+([a-z]|(rc|beta|alpha)[0-9]+|-[0-9]+-g[0-9a-f]+|-(rc|alpha|beta)\.?[0-9]+|\+g[0-9a-f]+)?$/;

function mostCommon(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

export function readVersion(meta: SignatureMeta, strings: MatchedBytes[]): ReadVersion {
  const reader = meta.version;
  if (!reader) return { version: null, raw: null };
  const mine = strings.filter((s) => s.identifier === reader.from);
  if (mine.length === 0) return { version: null, raw: null };
  let found: string | null;
  if (reader.kind === 'packed') {
    const values = mine
      .filter((s) => s.offset % reader.align === 0 && s.data.length >= reader.offset + (reader.encoding === 'leb128' ? 1 : 4))
      .map((s) => (reader.encoding === 'leb128' ? leb128(s.data, reader.offset) : Buffer.from(s.data).readUInt32LE(reader.offset)))
      .filter((v): v is number => v !== null)
      .map((v) => `${v >>> 16}.${(v >>> 8) & 0xff}.${v & 0xff}`);
    found = mostCommon(values);
  } else {
    const captured = mine.map((s) => reader.regex.exec(Buffer.from(s.data).toString('latin1'))?.[1]).filter((v): v is string => v !== undefined);
    found = mostCommon(captured);
    if (found === null) return { version: null, raw: Buffer.from(mine[0]!.data).toString('latin1') };
    if (reader.map) {
      const mapped = reader.map.get(found);
      // A product version outside the pin table: say which, and that the library's is unknown.
      if (mapped === undefined) return { version: null, raw: `${found} (product version not in the pin table: version unknown)` };
      found = mapped;
    }
  }
  if (found === null) return { version: null, raw: null };
  return VERSION.test(found) ? { version: found, raw: null } : { version: null, raw: found };
}

/** An unsigned LEB128 (a wasm i32.const of a small positive value) at `at`; null if it runs past 5 bytes or the data. */
function leb128(data: Uint8Array, at: number): number | null {
  let value = 0;
  for (let i = 0; i < 5 && at + i < data.length; i++) {
    const byte = data[at + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value >>> 0;
  }
  return null;
}
