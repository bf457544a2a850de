// Zip (jar, war, ear, whl, egg, apk, aar, nupkg, xpi) read through its central directory, the
// whole archive in memory. Grammar (APPNOTE 6.3):
//   [prefix] { local header "PK\3\4" name extra data [descriptor] } central directory
//   { "PK\1\2" 46 bytes + name + extra + comment } [zip64 EOCD "PK\6\6" + locator "PK\6\7"]
//   EOCD "PK\5\6" 22 bytes + comment (at most 65535 bytes, so the EOCD is in the last 64 KiB).
// The central directory is authoritative (as for unzip and java.util.zip.ZipFile); each entry is
// cross-checked against its local header, and entries whose data overlap (the overlapping-file
// bomb) are refused. Stored, deflate (node:zlib) and zstd (method 93) are read; others warned.
import { crc32, decodeName, q, u16, u32, u64, type Decompressor } from './bytes.ts';
import type { ReaderContext } from './context.ts';
import { isBombRatio } from './limits.ts';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const _SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const MAX32 = 0xffffffff;
const EOCD_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

export interface ZipLocation {
  /** Where the central directory starts in the buffer. */
  cdStart: number;
  cdEnd: number;
  entries: number;
  /** Bytes before the zip proper (offsets in the zip are relative to it). */
  base: number;
}

/** Finds the end-of-central-directory record and checks that the central directory is there. */
export function locateZip(b: Uint8Array): ZipLocation | null {
  if (b.length < 22) return null;
  const lowest = Math.max(0, b.length - 22 - 0xffff);
  const view = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (let p = view.lastIndexOf(EOCD_BYTES, b.length - 22); p >= lowest; p = p > 0 ? view.lastIndexOf(EOCD_BYTES, p - 1) : -1) {
    const loc = checkEocd(b, p);
    if (loc) return loc;
  }
  return null;
}

function checkEocd(b: Uint8Array, p: number): ZipLocation | null {
  const commentLength = u16(b, p + 20);
  if (p + 22 + commentLength > b.length) return null;
  let entries = u16(b, p + 10);
  let cdSize = u32(b, p + 12);
  let cdOffset = u32(b, p + 16);
  let cdEnd = p;
  if (entries === 0xffff || cdSize === MAX32 || cdOffset === MAX32) {
    const locator = p - 20;
    if (u32(b, locator) !== SIG_LOCATOR64) return null;
    // The zip64 record sits right before its locator (no extensible data is ever written).
    let record = u64(b, locator + 8);
    if (u32(b, record) !== SIG_EOCD64) record = locator - 56;
    if (record < 0 || u32(b, record) !== SIG_EOCD64) return null;
    entries = u64(b, record + 32);
    cdSize = u64(b, record + 40);
    cdOffset = u64(b, record + 48);
    cdEnd = record;
  }
  if (!Number.isFinite(entries) || !Number.isFinite(cdSize) || !Number.isFinite(cdOffset)) return null;
  const cdStart = cdEnd - cdSize;
  const base = cdStart - cdOffset;
  if (cdStart < 0 || base < 0) return null;
  if (entries === 0) return cdStart === 0 && cdSize === 0 ? { cdStart, cdEnd, entries, base } : null;
  if (u32(b, cdStart) !== SIG_CENTRAL) return null;
  return { cdStart, cdEnd, entries, base };
}

interface CentralEntry {
  index: number;
  name: string;
  rawName: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Zip64 extended information (0x0001): only the fields whose 32-bit slot was 0xFFFFFFFF. */
function zip64Extra(extra: Uint8Array, want: { size: boolean; compressed: boolean; offset: boolean }) {
  const out: { size?: number; compressed?: number; offset?: number } = {};
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = u16(extra, at);
    const len = u16(extra, at + 2);
    if (id === 0x0001) {
      let f = at + 4;
      const end = Math.min(extra.length, f + len);
      if (want.size && f + 8 <= end) {
        out.size = u64(extra, f);
        f += 8;
      }
      if (want.compressed && f + 8 <= end) {
        out.compressed = u64(extra, f);
        f += 8;
      }
      if (want.offset && f + 8 <= end) out.offset = u64(extra, f);
      return out;
    }
    at += 4 + len;
  }
  return out;
}

export const ZIP_METHODS: Record<number, Decompressor | 'stored'> = { 0: 'stored', 8: 'deflate-raw', 93: 'zstd' };
const METHOD_NAMES: Record<number, string> = { 1: 'shrink', 6: 'implode', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 95: 'xz', 98: 'ppmd', 99: 'AES' };

/**
 * Decompresses one member whose compressed bytes are in hand and emits it; shared with the
 * streaming reader. The declared size has already been admitted; zlib's output is capped at it.
 */
export function extractZipMember(
  ctx: ReaderContext,
  name: string,
  method: number,
  data: Uint8Array,
  size: number,
  crc: number,
): boolean {
  const kind = ZIP_METHODS[method];
  if (kind === undefined) {
    ctx.warn(`${q(name)}: compression method ${method} (${METHOD_NAMES[method] ?? 'unknown'}) is not supported; skipped`);
    return !ctx.budget.exhausted;
  }
  if (isBombRatio(ctx.limits, data.length, size)) {
    ctx.warn(
      `${q(name)}: zip bomb: ${data.length} compressed bytes claim ${size} (${Math.round(size / Math.max(1, data.length))}:1, over ${ctx.limits.maxRatio}:1); skipped`,
    );
    return !ctx.budget.exhausted;
  }
  let out: Uint8Array;
  if (kind === 'stored') {
    if (data.length !== size) {
      ctx.warn(`${q(name)}: stored member has ${data.length} bytes but declares ${size}; skipped`);
      return !ctx.budget.exhausted;
    }
    out = data;
  } else {
    const r = ctx.decompress(kind, data, size);
    if (!r.ok) {
      ctx.warn(
        r.overCap
          ? `${q(name)}: inflates past its declared ${size} bytes (the header lies); skipped`
          : `${q(name)}: ${r.reason}; skipped`,
      );
      return !ctx.budget.exhausted;
    }
    out = r.data;
    if (out.length !== size) ctx.warn(`${q(name)}: inflates to ${out.length} bytes, declares ${size}`);
  }
  const actual = crc32(out);
  if (actual !== crc) ctx.warn(`${q(name)}: CRC-32 ${hex(actual)} does not match the declared ${hex(crc)}`);
  return ctx.emit(name, out);
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

function readCentralDirectory(b: Uint8Array, loc: ZipLocation, ctx: ReaderContext): CentralEntry[] {
  const out: CentralEntry[] = [];
  if (loc.cdEnd - loc.cdStart > ctx.limits.maxHeaderBytes) {
    ctx.warn(`central directory of ${loc.cdEnd - loc.cdStart} bytes is over the ${ctx.limits.maxHeaderBytes}-byte cap; read up to it`);
  }
  const stop = Math.min(loc.cdEnd, loc.cdStart + ctx.limits.maxHeaderBytes);
  let at = loc.cdStart;
  let files = 0;
  for (let i = 0; i < loc.entries; i++) {
    if (files >= ctx.limits.maxMembers) {
      ctx.warn(`central directory lists ${loc.entries} entries, over the ${ctx.limits.maxMembers}-member cap; the rest are not read`);
      break;
    }
    if (at + 46 > stop || u32(b, at) !== SIG_CENTRAL) {
      ctx.warn(`central directory entry ${i} of ${loc.entries} is missing or corrupt; stopped there`);
      break;
    }
    const flags = u16(b, at + 8);
    const method = u16(b, at + 10);
    const crc = u32(b, at + 16);
    let compressedSize = u32(b, at + 20);
    let size = u32(b, at + 24);
    const nameLength = u16(b, at + 28);
    const extraLength = u16(b, at + 30);
    const commentLength = u16(b, at + 32);
    let localOffset = u32(b, at + 42);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > loc.cdEnd) {
      ctx.warn(`central directory entry ${i} runs past the end of the directory; stopped there`);
      break;
    }
    const rawName = b.subarray(at + 46, at + 46 + nameLength);
    const extra = b.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    if (size === MAX32 || compressedSize === MAX32 || localOffset === MAX32) {
      const z = zip64Extra(extra, { size: size === MAX32, compressed: compressedSize === MAX32, offset: localOffset === MAX32 });
      size = z.size ?? size;
      compressedSize = z.compressed ?? compressedSize;
      localOffset = z.offset ?? localOffset;
    }
    if (!(nameLength > 0 && b[at + 46 + nameLength - 1] === 0x2f)) files++;
    out.push({
      index: i,
      name: decodeName(rawName, (flags & 0x800) !== 0),
      rawName,
      flags,
      method,
      crc,
      compressedSize,
      size,
      localOffset,
    });
    at = next;
  }
  return out;
}

interface Located {
  entry: CentralEntry;
  header: number;
  dataStart: number;
  dataEnd: number;
}

/** Reads every member of an in-memory zip. Never throws; problems become warnings. */
export function readZip(b: Uint8Array, ctx: ReaderContext, fallback: (b: Uint8Array, ctx: ReaderContext) => void): void {
  const loc = locateZip(b);
  if (!loc) {
    ctx.warn('no end of central directory record (truncated?); reading local headers in order instead');
    fallback(b, ctx);
    return;
  }
  if (loc.base > 0) ctx.warn(`${loc.base} bytes precede the zip (self-extractor or launcher script); offsets adjusted`);
  const entries = readCentralDirectory(b, loc, ctx);
  const located: Located[] = [];
  for (const entry of entries) {
    if (entry.name.endsWith('/') && entry.size === 0) continue;
    const header = loc.base + entry.localOffset;
    if (!(header + 30 <= loc.cdStart) || u32(b, header) !== SIG_LOCAL) {
      ctx.warn(`${q(entry.name)}: central directory points at offset ${entry.localOffset}, where there is no local header; skipped`);
      continue;
    }
    const dataStart = header + 30 + u16(b, header + 26) + u16(b, header + 28);
    const dataEnd = dataStart + entry.compressedSize;
    if (!(dataEnd <= loc.cdStart)) {
      ctx.warn(`${q(entry.name)}: ${entry.compressedSize} compressed bytes at offset ${entry.localOffset} run past the member data; skipped`);
      continue;
    }
    located.push({ entry, header, dataStart, dataEnd });
  }
  // Each byte of member data belongs to one member: overlapping entries are the
  // overlapping-file zip bomb (or a quoted kernel), refused whichever comes second.
  const byPosition = [...located].sort((x, y) => x.header - y.header);
  const overlapping = new Set<Located>();
  let end = 0;
  for (const m of byPosition) {
    if (m.header < end) {
      overlapping.add(m);
      ctx.warn(`${q(m.entry.name)}: its data overlaps another member's (overlapping-entry zip bomb?); skipped`);
      continue;
    }
    end = m.dataEnd;
  }
  for (const m of located) {
    if (ctx.budget.exhausted) return;
    if (overlapping.has(m)) continue;
    if (!crossCheck(b, m, ctx)) continue;
    const e = m.entry;
    if (e.flags & 0x1) {
      ctx.warn(`${q(e.name)}: encrypted; skipped`);
      continue;
    }
    if (!ctx.admit(e.name, e.size)) continue;
    if (!extractZipMember(ctx, e.name, e.method, b.subarray(m.dataStart, m.dataEnd), e.size, e.crc)) return;
  }
}

/** The local header must agree with the central directory on what the member is. */
function crossCheck(b: Uint8Array, m: Located, ctx: ReaderContext): boolean {
  const e = m.entry;
  const h = m.header;
  const problems: string[] = [];
  const flags = u16(b, h + 6);
  const method = u16(b, h + 8);
  const nameLength = u16(b, h + 26);
  const localName = b.subarray(h + 30, h + 30 + nameLength);
  if (!Buffer.from(localName).equals(Buffer.from(e.rawName))) problems.push(`name ${q(decodeName(localName, (flags & 0x800) !== 0))}`);
  if (method !== e.method) problems.push(`method ${method} (central ${e.method})`);
  if ((flags & 0x1) !== (e.flags & 0x1)) problems.push('encryption flag');
  if ((flags & 0x8) === 0) {
    let compressed = u32(b, h + 18);
    let size = u32(b, h + 22);
    if (compressed === MAX32 || size === MAX32) {
      const extra = b.subarray(h + 30 + nameLength, h + 30 + nameLength + u16(b, h + 28));
      const z = zip64Extra(extra, { size: size === MAX32, compressed: compressed === MAX32, offset: false });
      size = z.size ?? size;
      compressed = z.compressed ?? compressed;
    }
    const crc = u32(b, h + 14);
    if (crc !== e.crc) problems.push(`CRC-32 ${hex(crc)} (central ${hex(e.crc)})`);
    if (compressed !== e.compressedSize) problems.push(`compressed size ${compressed} (central ${e.compressedSize})`);
    if (size !== e.size) problems.push(`size ${size} (central ${e.size})`);
  }
  if (problems.length === 0) return true;
  ctx.warn(`${q(e.name)}: the local header disagrees with the central directory on ${problems.join(', ')}; skipped`);
  return false;
}
