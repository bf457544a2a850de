// Tar, the whole archive in memory. Grammar: { 512-byte header, data padded to 512 } then two
// zero blocks (or the end of the input). Header: name[0,100) mode uid gid size[124,136)
// mtime chksum[148,156) typeflag[156] linkname[157,257) magic[257,263) "ustar\0" (POSIX, with
// prefix[345,500)) or "ustar  \0" (GNU), or none (v7). Size is octal, or GNU base-256 when its
// first byte has the high bit (negative when 0xff). Extensions read: pax 'x' records (path,
// size), GNU 'L' long names; 'g', 'K' and links skipped; GNU sparse 'S' warned and skipped.
// A header that does not add up, or a size that is garbage, negative or past the end, stops the
// walk with a warning: tar has no index, so nothing after it can be located with confidence.
import { decodeName, q } from './bytes.ts';
import type { ReaderContext } from './context.ts';

const BLOCK = 512;

/** An octal field (leading spaces, trailing space or NUL allowed); -1 if it is anything else. */
function parseOctal(b: Uint8Array, at: number, length: number): number {
  let i = at;
  const end = at + length;
  while (i < end && b[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i] ?? 0;
    if (c >= 0x30 && c <= 0x37) {
      v = v * 8 + (c - 0x30);
      digits++;
    } else break;
  }
  for (; i < end; i++) if (b[i] !== 0 && b[i] !== 0x20) return -1;
  return digits === 0 ? (b[at] === 0 ? 0 : -1) : v;
}

/** The size field: octal or base-256; -1 garbage, -2 negative. */
function parseSize(b: Uint8Array, at: number): number {
  const first = b[at] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) return -2;
    let v = first & 0x7f;
    for (let i = 1; i < 12; i++) v = v * 256 + (b[at + i] ?? 0);
    return Number.isSafeInteger(v) ? v : -1;
  }
  return parseOctal(b, at, 12);
}

export function tarHeaderChecksumOk(b: Uint8Array, at: number): boolean {
  if (at + BLOCK > b.length) return false;
  const stored = parseOctal(b, at + 148, 8);
  if (stored <= 0) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : (b[at + i] ?? 0);
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function cString(b: Uint8Array, at: number, length: number): string {
  const field = b.subarray(at, at + length);
  const nul = field.indexOf(0);
  return decodeName(nul >= 0 ? field.subarray(0, nul) : field, false);
}

function isZeroBlock(b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** pax records `<len> <key>=<value>\n`; keeps path and size. */
function parsePax(data: Uint8Array): { path?: string; size?: number; bad: boolean } {
  const out: { path?: string; size?: number; bad: boolean } = { bad: false };
  let at = 0;
  while (at < data.length) {
    let len = 0;
    let i = at;
    while (i < data.length && (data[i] ?? 0) >= 0x30 && (data[i] ?? 0) <= 0x39 && i - at < 12) len = len * 10 + ((data[i++] ?? 0) - 0x30);
    if (data[at] === 0) break;
    if (len <= 0 || data[i] !== 0x20 || at + len > data.length || data[at + len - 1] !== 0x0a) {
      out.bad = true;
      break;
    }
    const record = decodeName(data.subarray(i + 1, at + len - 1), true);
    const eq = record.indexOf('=');
    const key = eq >= 0 ? record.slice(0, eq) : record;
    const value = eq >= 0 ? record.slice(eq + 1) : '';
    if (key === 'path') out.path = value;
    else if (key === 'size') {
      const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
      if (Number.isSafeInteger(n)) out.size = n;
      else out.bad = true;
    }
    at += len;
  }
  return out;
}

export function readTar(b: Uint8Array, ctx: ReaderContext): void {
  let at = 0;
  let longName: string | null = null;
  let pax: { path?: string; size?: number } = {};
  let zeroBlocks = 0;
  while (at + BLOCK <= b.length) {
    if (ctx.budget.exhausted) return;
    if (isZeroBlock(b, at)) {
      at += BLOCK;
      if (++zeroBlocks >= 2) return;
      continue;
    }
    zeroBlocks = 0;
    if (!tarHeaderChecksumOk(b, at)) {
      ctx.warn(`offset ${at}: not a valid tar header (checksum); stopped`);
      return;
    }
    const type = b[at + 156] ?? 0;
    const posix = b[at + 257] === 0x75 && b[at + 262] === 0 && b[at + 261] === 0x72;
    let name = cString(b, at, 100);
    if (posix) {
      const prefix = cString(b, at + 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName !== null) name = longName;
    if (pax.path !== undefined) name = pax.path;
    let size = parseSize(b, at + 124);
    if (size === -2) {
      ctx.warn(`${q(name)}: negative size field; stopped (the rest cannot be located)`);
      return;
    }
    if (size < 0) {
      ctx.warn(`${q(name)}: size field is not a number; stopped (the rest cannot be located)`);
      return;
    }
    if (pax.size !== undefined && (type === 0x30 || type === 0 || type === 0x37)) size = pax.size;
    const dataStart = at + BLOCK;
    if (size > b.length - dataStart) {
      ctx.warn(`${q(name)}: claims ${size} bytes, only ${b.length - dataStart} remain (truncated or lying); stopped`);
      return;
    }
    const data = b.subarray(dataStart, dataStart + size);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    switch (type) {
      case 0x4c: // 'L' GNU long name for the next entry
        if (size > ctx.limits.maxHeaderBytes) ctx.warn(`GNU long name of ${size} bytes is over the header cap; ignored`);
        else longName = cString(data, 0, data.length);
        continue;
      case 0x78: {
        // 'x' pax header for the next entry
        if (size > ctx.limits.maxHeaderBytes) {
          ctx.warn(`pax header of ${size} bytes is over the header cap; ignored`);
          continue;
        }
        const p = parsePax(data);
        if (p.bad) ctx.warn(`${q(name)}: malformed pax header record; what could be read is used`);
        pax = {};
        if (p.path !== undefined) pax.path = p.path;
        if (p.size !== undefined) pax.size = p.size;
        continue;
      }
      case 0x4b: // 'K' long link name
      case 0x67: // 'g' global pax header
        continue;
    }
    longName = null;
    pax = {};
    if (type === 0x53) {
      ctx.warn(`${q(name)}: GNU sparse file is not supported; skipped`);
      continue;
    }
    const regular = type === 0x30 || type === 0 || type === 0x37;
    if (!regular || (name.endsWith('/') && size === 0)) continue;
    if (!ctx.admit(name, size)) continue;
    if (!ctx.emit(name, data)) return;
  }
  if (at < b.length && zeroBlocks === 0 && !isAllZero(b, at)) {
    ctx.warn(`${b.length - at} bytes at offset ${at} are less than a header (truncated)`);
  }
}

function isAllZero(b: Uint8Array, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
