// ELF linkage evidence: which shared libraries a binary NEEDs, the soname it calls itself, and
// which symbols it defines or imports. A program built against libcrypto carries OpenSSL's
// header version strings too, so a YARA match alone cannot tell a vendored copy from a user of
// the shared library; the dynamic section and the symbol tables can.
//
// Hand-written rather than taken from npm: the candidates looked at (`elfy` 1.0.0, `elf-tools`
// 1.1.2, `elfinfo` 0.4.0-beta) are small, unmaintained or beta, read through Node Buffers without
// checking a header's offsets against the file, and build an object per section/symbol whether
// wanted or not. This one is ~450 lines with no dependencies, checks every offset and size it
// follows against the buffer before reading (a lying header is an `ElfError` naming the byte
// offset, never a RangeError), caps every loop, and walks symbol tables without building objects
// when only the linkage sets are wanted.
//
// Grammar (System V gABI; all multi-byte fields in the byte order of EI_DATA; "addr"/"off"/"xword"
// are 4 bytes in ELF32 and 8 in ELF64):
//
//   file        = ehdr *(phdr) *(shdr) ...        ; tables at e_phoff / e_shoff, anywhere in the file
//   ehdr        = e_ident e_type:u16 e_machine:u16 e_version:u32 e_entry:addr e_phoff:off
//                 e_shoff:off e_flags:u32 e_ehsize:u16 e_phentsize:u16 e_phnum:u16
//                 e_shentsize:u16 e_shnum:u16 e_shstrndx:u16
//   e_ident     = "\x7fELF" EI_CLASS:(1=ELF32 | 2=ELF64) EI_DATA:(1=LSB | 2=MSB) EI_VERSION:1 pad{9}
//   shdr        = sh_name:u32 sh_type:u32 sh_flags:xword sh_addr:addr sh_offset:off sh_size:xword
//                 sh_link:u32 sh_info:u32 sh_addralign:xword sh_entsize:xword   ; 40 / 64 bytes
//                 ; e_shnum = 0 with e_shoff != 0: the count is shdr[0].sh_size;
//                 ; e_shstrndx = 0xffff (SHN_XINDEX): the index is shdr[0].sh_link
//   phdr64      = p_type:u32 p_flags:u32 p_offset p_vaddr p_paddr p_filesz p_memsz p_align  ; 56 bytes
//   phdr32      = p_type p_offset p_vaddr p_paddr p_filesz p_memsz p_flags p_align:u32 each ; 32 bytes
//   strtab      = *(bytes NUL)                    ; SHT_STRTAB; a name is an offset into it
//   dynamic     = *(d_tag:sxword d_val:xword) [DT_NULL]   ; SHT_DYNAMIC, sh_link = its strtab
//                 ; DT_NEEDED=1 and DT_SONAME=14 hold strtab offsets
//   sym64       = st_name:u32 st_info:u8 st_other:u8 st_shndx:u16 st_value:u64 st_size:u64 ; 24 bytes
//   sym32       = st_name:u32 st_value:u32 st_size:u32 st_info:u8 st_other:u8 st_shndx:u16 ; 16 bytes
//                 ; SHT_SYMTAB / SHT_DYNSYM, sh_link = its strtab; st_info = bind << 4 | type;
//                 ; st_shndx = 0 (SHN_UNDEF): imported, anything else: defined here
//
// Without section headers (sstrip'd files) the dynamic table is found through PT_DYNAMIC and its
// strings through DT_STRTAB/DT_STRSZ mapped by the PT_LOAD segments; symbols are then not read.
// SHT_NOBITS tables (the stubs in separate debug files) hold no data and are skipped.

export class ElfError extends Error {
  /** Byte offset in the file of the field or structure that is wrong. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`ELF: ${message} (at byte ${offset})`);
    this.name = 'ElfError';
    this.offset = offset;
  }
}

export const MAX_SYMBOLS = 2_000_000;
export const MAX_NAME_LENGTH = 65_536;
const MAX_DYNAMIC_ENTRIES = 1_000_000;

export type ElfSymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'ifunc' | 'other';
export type ElfBinding = 'local' | 'global' | 'weak' | 'unique' | 'other';

export interface ElfSymbol {
  /** The name without a symbol-version suffix (`foo@@VER_1` in .symtab reads `foo`). */
  name: string;
  /** st_shndx != SHN_UNDEF. */
  defined: boolean;
  type: ElfSymbolType;
  binding: ElfBinding;
  table: 'dynsym' | 'symtab';
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfFile {
  bits: 32 | 64;
  endian: 'little' | 'big';
  /** e_type: 1 relocatable, 2 executable, 3 shared object or PIE, 4 core. */
  type: number;
  machine: number;
  sections: ElfSection[];
  needed: string[];
  soname: string | null;
  symbols: ElfSymbol[];
}

export interface ElfLinkage {
  /** DT_NEEDED sonames, in order. */
  needed: string[];
  /** DT_SONAME, when the file names itself (a shared library). */
  soname: string | null;
  /** Named FUNC/OBJECT/NOTYPE/TLS/IFUNC/COMMON symbols with a section, any binding. */
  defined: Set<string>;
  /** Named GLOBAL/WEAK symbols with st_shndx = SHN_UNDEF. */
  imported: Set<string>;
  /** Whether any symbol table had a named symbol. */
  hasSymbols: boolean;
}

const SHT_NULL = 0;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;
const STT_SECTION = 3;
const STT_FILE = 4;

const TYPES: readonly ElfSymbolType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];
const BINDINGS: readonly ElfBinding[] = ['local', 'global', 'weak'];

function symbolType(t: number): ElfSymbolType {
  return TYPES[t] ?? (t === 10 ? 'ifunc' : 'other');
}
function symbolBinding(b: number): ElfBinding {
  return BINDINGS[b] ?? (b === 10 ? 'unique' : 'other');
}

/** Called for each symbol: name as in the string table, st_info, st_shndx. */
type SymbolVisitor = (name: string, info: number, shndx: number, table: 'dynsym' | 'symtab') => void;

const utf8 = new TextDecoder('utf-8', { fatal: false });

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;
  readonly is64: boolean;
  constructor(bytes: Uint8Array, is64: boolean, le: boolean) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.is64 = is64;
    this.le = le;
  }
  // These read unchecked: every caller has checked its whole structure with `range` first.
  u8(at: number): number {
    return this.bytes[at] ?? 0;
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.le);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.le);
  }
  /** A 64-bit field as a number; above 2^53 it is inexact, but then far beyond any buffer. */
  u64(at: number): number {
    const lo = this.view.getUint32(at + (this.le ? 0 : 4), this.le);
    const hi = this.view.getUint32(at + (this.le ? 4 : 0), this.le);
    return hi * 4294967296 + lo;
  }
  /** An addr/off/xword field: 4 bytes in ELF32, 8 in ELF64. */
  word(at: number): number {
    return this.is64 ? this.u64(at) : this.u32(at);
  }
  /** Checks that [offset, offset + size) lies in the file; `at` is the field that gave it. */
  range(offset: number, size: number, what: string, at: number): void {
    const n = this.bytes.length;
    if (!(offset >= 0 && size >= 0 && offset <= n && size <= n - offset)) {
      throw new ElfError(`${what} [${offset}, +${size}) runs past the end of the ${n}-byte file`, at);
    }
  }
  /** Decoded ASCII string tables by file offset; null for a table with other bytes. */
  private readonly tables = new Map<number, string | null>();

  /**
   * The NUL-terminated string at `index` of the string table [tab, tab + size). An all-ASCII table
   * is decoded once and its names are slices of it: several times faster on the 180,000 symbols of
   * an unstripped node binary than decoding each name.
   */
  string(tab: number, size: number, index: number, what: string, at: number): string {
    if (index >= size) throw new ElfError(`${what} name offset ${index} is outside its ${size}-byte string table`, at);
    let text = this.tables.get(tab);
    if (text === undefined) {
      text = isAscii(this.bytes, tab, tab + size) ? utf8.decode(this.bytes.subarray(tab, tab + size)) : null;
      this.tables.set(tab, text);
    }
    if (text !== null && text.length === size) {
      const end = text.indexOf('\0', index);
      if (end < 0) throw new ElfError(`${what} name is not NUL-terminated within its string table`, tab + index);
      if (end - index > MAX_NAME_LENGTH) throw new ElfError(`${what} name is longer than ${MAX_NAME_LENGTH} bytes`, tab + index);
      return text.slice(index, end);
    }
    const start = tab + index;
    const limit = Math.min(tab + size, start + MAX_NAME_LENGTH + 1);
    const bytes = this.bytes;
    let end = start;
    while (end < limit && bytes[end] !== 0) end++;
    if (end === limit) {
      if (end - start > MAX_NAME_LENGTH) throw new ElfError(`${what} name is longer than ${MAX_NAME_LENGTH} bytes`, start);
      throw new ElfError(`${what} name is not NUL-terminated within its string table`, start);
    }
    return utf8.decode(bytes.subarray(start, end));
  }
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

interface Header {
  r: Reader;
  type: number;
  machine: number;
  phoff: number;
  phnum: number;
  shoff: number;
  sections: ElfSection[];
}

/** Reads the ELF header and the section header table; null when the file is not ELF. */
function readHeader(bytes: Uint8Array): Header | null {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return null;
  if (bytes.length < 16) throw new ElfError(`file of ${bytes.length} bytes is shorter than e_ident`, bytes.length);
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) throw new ElfError(`EI_CLASS ${cls} is neither 1 (ELF32) nor 2 (ELF64)`, 4);
  if (data !== 1 && data !== 2) throw new ElfError(`EI_DATA ${data} is neither 1 (little-endian) nor 2 (big-endian)`, 5);
  if (bytes[6] !== 1) throw new ElfError(`EI_VERSION ${bytes[6]} is not 1`, 6);
  const is64 = cls === 2;
  const r = new Reader(bytes, is64, data === 1);
  const ehsize = is64 ? 64 : 52;
  r.range(0, ehsize, 'ELF header', 0);
  const type = r.u16(16);
  const machine = r.u16(18);
  const phoff = r.word(is64 ? 32 : 28);
  const shoff = r.word(is64 ? 40 : 32);
  const at = is64 ? 52 : 40; // e_ehsize
  const phentsize = r.u16(at + 2);
  const phnum = r.u16(at + 4);
  const shentsize = r.u16(at + 6);
  let shnum = r.u16(at + 8);
  let shstrndx = r.u16(at + 10);
  const shdrSize = is64 ? 64 : 40;
  if (phnum > 0) {
    if (phentsize !== (is64 ? 56 : 32)) throw new ElfError(`e_phentsize ${phentsize} is not ${is64 ? 56 : 32}`, at + 2);
    r.range(phoff, phnum * phentsize, 'program header table', is64 ? 32 : 28);
  }
  const sections: ElfSection[] = [];
  if (shoff === 0) return { r, type, machine, phoff, phnum, shoff, sections };
  if (shentsize !== shdrSize) throw new ElfError(`e_shentsize ${shentsize} is not ${shdrSize}`, at + 6);
  r.range(shoff, shdrSize, 'section header 0', is64 ? 40 : 32);
  if (shnum === 0) shnum = r.word(shoff + (is64 ? 32 : 20)); // extended numbering: shdr[0].sh_size
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + (is64 ? 40 : 24)); // shdr[0].sh_link
  // The range check bounds shnum by the file size, so the loop below is bounded too.
  r.range(shoff, shnum * shdrSize, `section header table of ${shnum} entries`, is64 ? 40 : 32);
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shdrSize;
    const s: ElfSection = is64
      ? { index: i, name: '', type: r.u32(h + 4), offset: r.u64(h + 24), size: r.u64(h + 32), link: r.u32(h + 40), entsize: r.u64(h + 56) }
      : { index: i, name: '', type: r.u32(h + 4), offset: r.u32(h + 16), size: r.u32(h + 20), link: r.u32(h + 24), entsize: r.u32(h + 36) };
    if (i > 0 && s.type !== SHT_NULL && s.type !== SHT_NOBITS) r.range(s.offset, s.size, `section ${i}`, h + (is64 ? 24 : 16));
    sections.push(s);
  }
  if (shstrndx !== 0) {
    const names = sections[shstrndx];
    const at = is64 ? 62 : 50; // e_shstrndx
    if (!names) throw new ElfError(`e_shstrndx ${shstrndx} is not one of the ${shnum} sections`, at);
    if (names.type !== SHT_STRTAB) throw new ElfError(`e_shstrndx ${shstrndx} is a section of type ${names.type}, not SHT_STRTAB`, at);
    for (const s of sections) {
      if (s.index === 0) continue;
      s.name = r.string(names.offset, names.size, r.u32(shoff + s.index * shdrSize), `section ${s.index}`, shoff + s.index * shdrSize);
    }
  }
  return { r, type, machine, phoff, phnum, shoff, sections };
}

/** The string table that section `s` links to. */
function linkedStrtab(h: Header, s: ElfSection): ElfSection {
  const t = h.sections[s.link];
  const at = sectionHeaderAt(h, s) + (h.r.is64 ? 40 : 24); // sh_link
  if (!t || s.link === 0) throw new ElfError(`section ${s.index} (${s.name}) links to section ${s.link}, which does not exist`, at);
  if (t.type !== SHT_STRTAB) throw new ElfError(`section ${s.index} (${s.name}) links to section ${s.link} of type ${t.type}, not SHT_STRTAB`, at);
  return t;
}

function sectionHeaderAt(h: Header, s: ElfSection): number {
  return h.shoff + s.index * (h.r.is64 ? 64 : 40);
}

/** Checks a table section's entry size; returns its entry count. */
function entries(h: Header, s: ElfSection, size: number, what: string): number {
  const at = sectionHeaderAt(h, s) + (h.r.is64 ? 56 : 36);
  if (s.entsize !== size) throw new ElfError(`${what} section ${s.index} has sh_entsize ${s.entsize}, not ${size}`, at);
  if (s.size % size !== 0) throw new ElfError(`${what} section ${s.index} size ${s.size} is not a multiple of ${size}`, at);
  return s.size / size;
}

interface Dynamic {
  needed: string[];
  soname: string | null;
}

function readDynamicSections(h: Header): Dynamic | null {
  const r = h.r;
  const dynSize = r.is64 ? 16 : 8;
  let found: Dynamic | null = null;
  for (const s of h.sections) {
    if (s.type !== SHT_DYNAMIC) continue;
    found ??= { needed: [], soname: null };
    const str = linkedStrtab(h, s);
    const n = Math.min(entries(h, s, dynSize, 'SHT_DYNAMIC'), MAX_DYNAMIC_ENTRIES);
    readDynamicEntries(r, s.offset, n, str.offset, str.size, found);
  }
  return found;
}

function readDynamicEntries(r: Reader, offset: number, n: number, strOff: number, strSize: number, into: Dynamic): void {
  const dynSize = r.is64 ? 16 : 8;
  for (let i = 0; i < n; i++) {
    const e = offset + i * dynSize;
    const tag = r.word(e);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) into.needed.push(r.string(strOff, strSize, r.word(e + dynSize / 2), 'DT_NEEDED', e));
    else if (tag === DT_SONAME) into.soname = r.string(strOff, strSize, r.word(e + dynSize / 2), 'DT_SONAME', e);
  }
}

/** The dynamic table through the program headers, for files without section headers. */
function readDynamicSegment(h: Header): Dynamic | null {
  const r = h.r;
  const is64 = r.is64;
  const phsize = is64 ? 56 : 32;
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dyn: { offset: number; filesz: number; at: number } | null = null;
  for (let i = 0; i < h.phnum; i++) {
    const p = h.phoff + i * phsize;
    const type = r.u32(p);
    const offset = r.word(p + (is64 ? 8 : 4));
    const vaddr = r.word(p + (is64 ? 16 : 8));
    const filesz = r.word(p + (is64 ? 32 : 16));
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC && !dyn) dyn = { offset, filesz, at: p };
  }
  if (!dyn) return null;
  r.range(dyn.offset, dyn.filesz, 'PT_DYNAMIC segment', dyn.at);
  const dynSize = is64 ? 16 : 8;
  const n = Math.min(Math.floor(dyn.filesz / dynSize), MAX_DYNAMIC_ENTRIES);
  let strAddr = -1;
  let strSize = -1;
  for (let i = 0; i < n; i++) {
    const e = dyn.offset + i * dynSize;
    const tag = r.word(e);
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strAddr = r.word(e + dynSize / 2);
    else if (tag === DT_STRSZ) strSize = r.word(e + dynSize / 2);
  }
  const out: Dynamic = { needed: [], soname: null };
  if (strAddr < 0 || strSize < 0) return out;
  const load = loads.find((l) => strAddr >= l.vaddr && strAddr - l.vaddr < l.filesz);
  if (!load) throw new ElfError(`DT_STRTAB address ${strAddr} is in no PT_LOAD segment`, dyn.offset);
  const strOff = load.offset + (strAddr - load.vaddr);
  r.range(strOff, strSize, 'DT_STRTAB string table', dyn.offset);
  readDynamicEntries(r, dyn.offset, n, strOff, strSize, out);
  return out;
}

function walkSymbols(h: Header, visit: SymbolVisitor): number {
  const r = h.r;
  const is64 = r.is64;
  const symSize = is64 ? 24 : 16;
  let total = 0;
  for (const s of h.sections) {
    if ((s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) || s.size === 0) continue;
    const table = s.type === SHT_DYNSYM ? 'dynsym' : 'symtab';
    const str = linkedStrtab(h, s);
    const n = entries(h, s, symSize, table);
    if (total + n > MAX_SYMBOLS) throw new ElfError(`more than ${MAX_SYMBOLS} symbols`, sectionHeaderAt(h, s));
    total += n;
    for (let i = 1; i < n; i++) {
      const e = s.offset + i * symSize;
      const nameOff = r.u32(e);
      if (nameOff === 0) continue;
      const info = is64 ? r.u8(e + 4) : r.u8(e + 12);
      const shndx = is64 ? r.u16(e + 6) : r.u16(e + 14);
      visit(r.string(str.offset, str.size, nameOff, table, e), info, shndx, table);
    }
  }
  return total;
}

/** A symbol's name without its version suffix. */
function baseName(name: string): string {
  const at = name.indexOf('@');
  return at > 0 ? name.slice(0, at) : name;
}

/** Parses the whole file; null when it is not ELF, `ElfError` when it is and a header lies. */
export function parseElf(bytes: Uint8Array): ElfFile | null {
  const h = readHeader(bytes);
  if (!h) return null;
  const dyn = (h.sections.length > 0 ? readDynamicSections(h) : readDynamicSegment(h)) ?? { needed: [], soname: null };
  const symbols: ElfSymbol[] = [];
  walkSymbols(h, (name, info, shndx, table) => {
    symbols.push({ name: baseName(name), defined: shndx !== SHN_UNDEF, type: symbolType(info & 0xf), binding: symbolBinding(info >> 4), table });
  });
  return {
    bits: h.r.is64 ? 64 : 32,
    endian: h.r.le ? 'little' : 'big',
    type: h.type,
    machine: h.machine,
    sections: h.sections,
    needed: dyn.needed,
    soname: dyn.soname,
    symbols,
  };
}

/** What the file links to and what it provides; null when it is not ELF, `ElfError` when it is and a header lies. */
export function readElfLinkage(bytes: Uint8Array): ElfLinkage | null {
  const h = readHeader(bytes);
  if (!h) return null;
  const dyn = (h.sections.length > 0 ? readDynamicSections(h) : readDynamicSegment(h)) ?? { needed: [], soname: null };
  const defined = new Set<string>();
  const imported = new Set<string>();
  let named = 0;
  walkSymbols(h, (name, info, shndx) => {
    named++;
    const type = info & 0xf;
    if (type === STT_SECTION || type === STT_FILE) return;
    if (shndx !== SHN_UNDEF) defined.add(baseName(name));
    else if (info >> 4 === 1 || info >> 4 === 2) imported.add(baseName(name));
  });
  return { needed: dyn.needed, soname: dyn.soname, defined, imported, hasSymbols: named > 0 };
}
