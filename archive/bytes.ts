// Little-endian integer reads that never throw (out of range reads give -1), member-name
// decoding and normalisation, and bounded decompression through node:zlib. Grammar: none of its
// own; these are the byte-level primitives the zip, tar and asar readers share.
import * as zlib from 'node:zlib';

export function u16(b: Uint8Array, at: number): number {
  if (at < 0 || at + 2 > b.length) return -1;
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

export function u32(b: Uint8Array, at: number): number {
  if (at < 0 || at + 4 > b.length) return -1;
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16)) + (b[at + 3] ?? 0) * 0x1000000;
}

/** A uint64 as a number; values past 2^53 come back as Infinity, which every cap refuses. */
export function u64(b: Uint8Array, at: number): number {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (lo < 0 || hi < 0) return -1;
  const v = hi * 0x100000000 + lo;
  return Number.isSafeInteger(v) ? v : Infinity;
}

export function startsWith(b: Uint8Array, at: number, magic: readonly number[]): boolean {
  if (at < 0 || at + magic.length > b.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Names flagged UTF-8 (or valid as such) decode as UTF-8; others as Latin-1, never failing. */
export function decodeName(b: Uint8Array, isUtf8: boolean): string {
  if (isUtf8) return utf8.decode(b);
  try {
    return utf8Fatal.decode(b);
  } catch {
    return latin1.decode(b);
  }
}

export interface NormalisedName {
  name: string;
  /** Why the name was rewritten (absolute, `..`, backslashes, NUL), or null. */
  problem: string | null;
}

/**
 * A member name as a relative path: separators unified, `.` and empty segments dropped, leading
 * `/` removed, `..` segments removed. Rewrites that change meaning are reported (path traversal).
 */
export function normaliseMemberName(raw: string): NormalisedName {
  const problems: string[] = [];
  let s = raw;
  if (s.includes('\0')) {
    problems.push('contains NUL');
    s = s.replaceAll('\0', '');
  }
  if (s.includes('\\')) s = s.replaceAll('\\', '/');
  if (s.startsWith('/') || /^[A-Za-z]:\//.test(s)) problems.push('is absolute');
  const parts: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!problems.includes('climbs out with ..')) problems.push('climbs out with ..');
      continue;
    }
    parts.push(seg);
  }
  if (/^[A-Za-z]:$/.test(parts[0] ?? '')) parts.shift();
  return { name: parts.join('/'), problem: problems.length > 0 ? problems.join(', ') : null };
}

/** A name quoted for a warning: JSON-escaped, cut to 200 characters. */
export function q(name: string): string {
  const s = JSON.stringify(name);
  return s.length > 202 ? `${s.slice(0, 200)}…"` : s;
}

export type Decompressor = 'deflate-raw' | 'gzip' | 'zstd';

export type Decompressed = { ok: true; data: Uint8Array; consumed: number } | { ok: false; reason: string; overCap: boolean };

type ZstdSync = (buf: Uint8Array, options?: { maxOutputLength?: number; finishFlush?: number }) => Buffer;
type InfoResult = { buffer: Buffer; engine: { bytesWritten: number } };
const zstdDecompressSync: ZstdSync | undefined = (zlib as unknown as { zstdDecompressSync?: ZstdSync })
  .zstdDecompressSync;

export const zstdAvailable = zstdDecompressSync !== undefined;

/**
 * One whole decompression, its output capped at `maxOut` bytes by zlib itself (maxOutputLength),
 * so a bomb stops at the cap instead of allocating. `partial` accepts truncated input (used to
 * peek at the start of a layer).
 */
export function decompress(kind: Decompressor, input: Uint8Array, maxOut: number, partial = false): Decompressed {
  const cap = Math.max(1, Math.floor(maxOut));
  try {
    if (kind === 'zstd') {
      if (!zstdDecompressSync) return { ok: false, reason: 'zstd needs node:zlib zstd (Node >= 22.15)', overCap: false };
      const out = zstdDecompressSync(input, {
        maxOutputLength: cap,
        ...(partial ? { finishFlush: zlib.constants.ZSTD_e_flush } : {}),
      });
      return { ok: true, data: out, consumed: input.length };
    }
    const options = {
      maxOutputLength: cap,
      info: true,
      ...(partial ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}),
    };
    const r = (kind === 'gzip' ? zlib.gunzipSync(input, options) : zlib.inflateRawSync(input, options)) as unknown as InfoResult;
    return { ok: true, data: r.buffer, consumed: r.engine.bytesWritten };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, reason: `decompresses past ${cap} bytes`, overCap: true };
    return { ok: false, reason: `${kind} data is corrupt (${err.message ?? String(e)})`, overCap: false };
  }
}

type Crc32 = (data: Uint8Array, value?: number) => number;
const nativeCrc32: Crc32 | undefined = (zlib as unknown as { crc32?: Crc32 }).crc32;
let table: Uint32Array | null = null;

export function crc32(data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
