// Unix `ar` archives, i.e. static libraries (`.a`): a vendored copy is as often a libfoo.a in a
// -dev output as code linked into a binary, and the linkage check looks inside each object member.
// Hand-written for the same reasons as elf.ts: tiny, strict, bounded, no Buffer and no I/O.
//
// Grammar (the common format of GNU and BSD ar; all header fields are ASCII, space-padded):
//
//   archive     = "!<arch>\n" *(member)
//   member      = header data [pad]
//   header      = ar_name:16 ar_date:12 ar_uid:6 ar_gid:6 ar_mode:8 ar_size:10 ar_fmag:"`\n"  ; 60 bytes
//   ar_size     = 1*DIGIT *SP                  ; decimal bytes of data, BSD name included
//   pad         = "\n"                         ; when data ends on an odd offset (may be absent at EOF)
//   ar_name     = "/" *SP                      ; SysV/GNU symbol index (armap), not yielded
//               | "/SYM64/" *SP                ; GNU 64-bit symbol index, not yielded
//               | "//" *SP                     ; GNU long-name table: *(name "/\n"), not yielded
//               | "/" 1*DIGIT *SP              ; GNU long name: offset into the long-name table
//               | "#1/" 1*DIGIT *SP            ; BSD: the name is the first N bytes of data
//               | name ["/"] *SP               ; short name, "/"-terminated in GNU archives
//   BSD symbol indexes are members named "__.SYMDEF" or "__.SYMDEF SORTED" (also "__.SYMDEF_64"...), not yielded.
//
//   armap       = count:u32be count*(header:u32be) count*(name NUL)   ; "/": each global symbol that
//                 a member defines, with the offset of that member's header ("/SYM64/": u64be fields)
//
// Thin archives ("!<thin>\n") keep their members in other files and are refused.

export class ArError extends Error {
  /** Byte offset in the archive of the header or field that is wrong. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`ar: ${message} (at byte ${offset})`);
    this.name = 'ArError';
    this.offset = offset;
  }
}

export interface ArMember {
  name: string;
  /** Offset of the member's header in the archive. */
  header: number;
  /** Offset of the member's data (after a BSD name) in the archive. */
  offset: number;
  /** Size of the member's data (without a BSD name). */
  size: number;
}

export const MAX_MEMBERS = 1_000_000;
const MAX_NAME_LENGTH = 4096;
const MAX_SYMBOL_LENGTH = 65_536;
const MAGIC = '!<arch>\n';
const THIN = '!<thin>\n';
const HEADER = 60;

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function hasPrefix(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Whether the bytes start with the ar magic. */
export function isAr(bytes: Uint8Array): boolean {
  return hasPrefix(bytes, MAGIC);
}

/** A decimal field: digits then spaces only. */
function decimal(bytes: Uint8Array, start: number, width: number, what: string): number {
  const text = ascii(bytes, start, start + width);
  const m = /^(\d+) *$/.exec(text);
  if (!m || m[1]!.length > 15) throw new ArError(`${what} ${JSON.stringify(text)} is not a decimal number`, start);
  return Number(m[1]);
}

/**
 * The archive's members in order, special members (symbol indexes, the long-name table) left out.
 * Throws `ArError` when the bytes are not an archive or a header lies.
 */
export function* arMembers(bytes: Uint8Array, index?: (data: number, size: number, width: 4 | 8) => void): Generator<ArMember> {
  if (hasPrefix(bytes, THIN)) throw new ArError('thin archive: its members are in other files', 0);
  if (!isAr(bytes)) throw new ArError('no "!<arch>\\n" magic', 0);
  let longNames: { start: number; end: number } | null = null;
  let pos = MAGIC.length;
  let count = 0;
  while (pos < bytes.length) {
    if (++count > MAX_MEMBERS) throw new ArError(`more than ${MAX_MEMBERS} members`, pos);
    const h = pos;
    if (bytes.length - h < HEADER) throw new ArError(`member header needs ${HEADER} bytes, ${bytes.length - h} remain`, h);
    if (bytes[h + 58] !== 0x60 || bytes[h + 59] !== 0x0a) throw new ArError('member header does not end with "`\\n"', h + 58);
    const size = decimal(bytes, h + 48, 10, 'ar_size');
    const data = h + HEADER;
    if (size > bytes.length - data) throw new ArError(`member of ${size} bytes runs past the end of the ${bytes.length}-byte archive`, h + 48);
    pos = data + size + (size & 1);
    if ((size & 1) === 1 && data + size < bytes.length && bytes[data + size] !== 0x0a) {
      throw new ArError('padding byte after an odd-sized member is not "\\n"', data + size);
    }
    const raw = ascii(bytes, h, h + 16).replace(/ +$/, '');
    if (raw === '/' || raw === '/SYM64/') {
      index?.(data, size, raw === '/SYM64/' ? 8 : 4);
      continue;
    }
    if (raw === '//') {
      if (longNames) throw new ArError('second long-name table', h);
      longNames = { start: data, end: data + size };
      continue;
    }
    let name: string;
    let offset = data;
    let length = size;
    if (raw.startsWith('#1/')) {
      const n = decimal(bytes, h + 3, 13, 'BSD name length');
      if (n > size || n > MAX_NAME_LENGTH) throw new ArError(`BSD name of ${n} bytes does not fit its ${size}-byte member`, h + 3);
      let end = data;
      while (end < data + n && bytes[end] !== 0) end++; // BSD names may be NUL-padded
      name = utf8.decode(bytes.subarray(data, end));
      offset = data + n;
      length = size - n;
    } else if (/^\/\d+$/.test(raw)) {
      if (!longNames) throw new ArError(`long name ${raw} before any "//" long-name table`, h);
      const at = longNames.start + Number(raw.slice(1));
      if (raw.length > 16 || at >= longNames.end) throw new ArError(`long name offset ${raw.slice(1)} is outside the long-name table`, h);
      const limit = Math.min(longNames.end, at + MAX_NAME_LENGTH);
      let end = at;
      while (end < limit && bytes[end] !== 0x0a) end++;
      if (end === limit) throw new ArError('long name is not "\\n"-terminated in the long-name table', at);
      if (end === at || bytes[end - 1] !== 0x2f) throw new ArError('long name does not end with "/\\n"', end);
      name = utf8.decode(bytes.subarray(at, end - 1));
    } else if (raw.startsWith('/')) {
      throw new ArError(`member name ${JSON.stringify(raw)} is neither a symbol index nor a long-name reference`, h);
    } else {
      name = raw.endsWith('/') ? raw.slice(0, -1) : raw;
    }
    if (name.startsWith('__.SYMDEF')) continue;
    yield { name, header: h, offset, size: length };
  }
}

/** All members, or null when the bytes are not an ar archive; `ArError` when a header lies. */
export function readAr(bytes: Uint8Array): ArMember[] | null {
  if (!isAr(bytes)) return null;
  return [...arMembers(bytes)];
}

export interface ArIndexEntry {
  symbol: string;
  /** Offset of the header of the member that defines it. */
  header: number;
}

/**
 * The GNU/SysV symbol index ("/" or "/SYM64/" member, written by ranlib or `ar s`): the global
 * symbols the members define, as the linker sees them. It also covers members this module cannot
 * read further, such as LTO bitcode objects. [] when the archive has no index; null when the bytes
 * are not an ar archive; `ArError` when a header or the index lies.
 */
export function readArIndex(bytes: Uint8Array): ArIndexEntry[] | null {
  if (!isAr(bytes)) return null;
  const entries: ArIndexEntry[] = [];
  const headers = new Set<number>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (at: number, width: 4 | 8): number => (width === 4 ? view.getUint32(at) : view.getUint32(at) * 4294967296 + view.getUint32(at + 4));
  const indexes: { data: number; size: number; width: 4 | 8 }[] = [];
  for (const m of arMembers(bytes, (data, size, width) => indexes.push({ data, size, width }))) headers.add(m.header);
  for (const { data, size, width } of indexes) {
    if (size < width) throw new ArError(`symbol index of ${size} bytes has no count`, data);
    const count = word(data, width);
    if (count > (size - width) / (width + 1)) throw new ArError(`symbol index count ${count} does not fit its ${size} bytes`, data);
    const end = data + size;
    let name = data + width + count * width;
    for (let i = 0; i < count; i++) {
      const at = data + width + i * width;
      const header = word(at, width);
      if (!headers.has(header)) throw new ArError(`symbol index entry ${i} points at ${header}, which is no member header`, at);
      const limit = Math.min(end, name + MAX_SYMBOL_LENGTH + 1);
      let nul = name;
      while (nul < limit && bytes[nul] !== 0) nul++;
      if (nul === limit) throw new ArError(`symbol index name ${i} is not NUL-terminated`, name);
      entries.push({ symbol: utf8.decode(bytes.subarray(name, nul)), header });
      name = nul + 1;
    }
  }
  return entries;
}
