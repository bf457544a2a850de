// Vendored copy or mere user? A binary built against a shared library carries that library's
// header version strings, so a YARA match on them is no proof of a copy. The linkage says which:
// whoever defines the library's exported functions, or is the library (its DT_SONAME), holds a
// copy; whoever only NEEDs its soname or imports the functions was built against it.
//
// Input grammar: an ELF file (see elf.ts) or an `ar` archive of ELF objects (see ar.ts); members
// of an archive that are not ELF (or are malformed) give no evidence and are skipped.
//
//   copy           ELF: DT_SONAME matches one of lib.sonames, or it defines one of lib.symbols
//                  ar:  some member defines one of lib.symbols, or the archive's symbol index
//                       (ranlib's "/" member) lists one: that also covers LTO bitcode members
//   built-against  ELF: DT_NEEDED matches one of lib.sonames, or it imports lib.symbols and
//                  defines none; ar: some member imports one and none defines any
//   unknown        not ELF nor ar, a malformed ELF, or no evidence either way
//
// Never throws on malformed input: a lying header is 'unknown', with the parser's error as reason
// (only ElfError/ArError are caught; anything else would be a bug here and is let through).
import { ArError, arMembers, isAr, readArIndex } from './ar.ts';
import { ElfError, readElfLinkage, type ElfLinkage } from './elf.ts';

export type Linkage = 'copy' | 'built-against' | 'unknown';

export interface LinkageVerdict {
  linkage: Linkage;
  reason: string;
}

export interface LibraryIdentity {
  sonames: string[];
  symbols: string[];
}

/** Exact match, or prefix match when the pattern ends with `*`. */
export function sonameMatches(pattern: string, soname: string): boolean {
  return pattern.endsWith('*') ? soname.startsWith(pattern.slice(0, -1)) : soname === pattern;
}

function matchingSoname(lib: LibraryIdentity, soname: string): boolean {
  return lib.sonames.some((p) => sonameMatches(p, soname));
}

function firstIn(set: Set<string>, names: string[]): string | null {
  for (const n of names) if (set.has(n)) return n;
  return null;
}

function classifyElf(l: ElfLinkage, lib: LibraryIdentity): LinkageVerdict {
  if (l.soname !== null && matchingSoname(lib, l.soname)) return { linkage: 'copy', reason: `is the library itself (DT_SONAME ${l.soname})` };
  const defined = firstIn(l.defined, lib.symbols);
  if (defined) return { linkage: 'copy', reason: `defines ${defined}` };
  const needed = l.needed.find((n) => matchingSoname(lib, n));
  if (needed) return { linkage: 'built-against', reason: `NEEDs ${needed}` };
  const imported = firstIn(l.imported, lib.symbols);
  if (imported) return { linkage: 'built-against', reason: `imports ${imported} and defines none of the library's symbols` };
  if (!l.hasSymbols) return { linkage: 'unknown', reason: 'no symbol table and no matching DT_NEEDED' };
  return { linkage: 'unknown', reason: "neither defines, imports nor NEEDs the library's symbols or sonames" };
}

function classifyArchive(bytes: Uint8Array, lib: LibraryIdentity): LinkageVerdict {
  let reference: string | null = null;
  let objects = 0;
  let skipped = 0;
  const names = new Map<number, string>();
  try {
    for (const m of arMembers(bytes)) {
      names.set(m.header, m.name);
      let l: ElfLinkage | null;
      try {
        l = readElfLinkage(bytes.subarray(m.offset, m.offset + m.size));
      } catch (e) {
        if (!(e instanceof ElfError)) throw e;
        skipped++;
        continue;
      }
      if (!l) continue;
      objects++;
      const defined = firstIn(l.defined, lib.symbols);
      if (defined) return { linkage: 'copy', reason: `archive member ${m.name} defines ${defined}` };
      if (reference === null) {
        const imported = firstIn(l.imported, lib.symbols);
        if (imported) reference = `archive member ${m.name} references ${imported}`;
      }
    }
    const wanted = new Set(lib.symbols);
    const listed = readArIndex(bytes)?.find((e) => wanted.has(e.symbol));
    if (listed) return { linkage: 'copy', reason: `the archive's symbol index lists ${listed.symbol} as defined by member ${names.get(listed.header) ?? '?'}` };
  } catch (e) {
    if (!(e instanceof ArError)) throw e;
    return { linkage: 'unknown', reason: `malformed ar archive: ${e.message}` };
  }
  if (reference) return { linkage: 'built-against', reason: `${reference}; no member defines the library's symbols` };
  const malformed = skipped > 0 ? ` (${skipped} malformed members skipped)` : '';
  return { linkage: 'unknown', reason: `no member of the archive's ${objects} ELF objects defines or references the library's symbols${malformed}` };
}

/** Whether `bytes` (a whole file) holds a copy of `lib`, was built against it, or tells nothing. */
export function classifyLinkage(bytes: Uint8Array, lib: LibraryIdentity): LinkageVerdict {
  return classifyLinkages(bytes, new Map([['', lib]])).get('') as LinkageVerdict;
}

const NO_IDENTITY: LinkageVerdict = { linkage: 'unknown', reason: 'the signatures name no soname or exported function of this library' };

/** classifyLinkage for several libraries of one file (keyed by name), parsing an ELF file once. */
export function classifyLinkages(bytes: Uint8Array, libs: ReadonlyMap<string, LibraryIdentity>): Map<string, LinkageVerdict> {
  const out = new Map<string, LinkageVerdict>();
  const each = (verdict: (lib: LibraryIdentity) => LinkageVerdict): Map<string, LinkageVerdict> => {
    for (const [name, lib] of libs) out.set(name, lib.sonames.length === 0 && lib.symbols.length === 0 ? NO_IDENTITY : verdict(lib));
    return out;
  };
  if (isAr(bytes)) return each((lib) => classifyArchive(bytes, lib));
  let l: ElfLinkage | null;
  try {
    l = readElfLinkage(bytes);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    const malformed: LinkageVerdict = { linkage: 'unknown', reason: `malformed ELF: ${e.message}` };
    return each(() => malformed);
  }
  if (!l) {
    const other: LinkageVerdict = { linkage: 'unknown', reason: 'neither an ELF file nor an ar archive' };
    return each(() => other);
  }
  const elf = l;
  return each((lib) => classifyElf(elf, lib));
}
