// Each library's linkage identity, read from its signatures' meta (`sonames`, `symbols`): the one
// source of truth for telling a vendored copy (defines the library's functions, or is the library
// itself) from a program only built against the shared library (NEEDs the soname, imports the
// functions). formats/linkage.ts classifies a file against an identity; this module gathers them.
//
// What to list (in each signature file's meta, comma lists):
//   sonames  exact DT_SONAME/DT_NEEDED values, or a prefix with one trailing `*` ("libssl.so.*"
//            matches libssl.so.3 and libssl.so.1.1); "" for programs that are no shared library.
//   symbols  a few exported FUNCTIONS stable across releases, most specific first. Only functions:
//            an executable's .dynsym "defines" the data objects it imports by copy relocation, so
//            a data symbol would read as a copy. Prefer names only the library has: a program may
//            well have its own `inflate`, so zlib's list leads with zlibVersion.
// Every rule of a library must declare the same lists (the loader refuses a disagreement).
import type { LibraryIdentity } from '../formats/linkage.ts';
import type { SignatureMeta } from './signature-meta.ts';

export type { LibraryIdentity } from '../formats/linkage.ts';

/** A library's identity and the rule it was first read from. */
export interface DeclaredIdentity extends LibraryIdentity {
  rule: string;
}

const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The identity of every library the rules name. A rule whose lists differ from an earlier rule of
 * the same library goes to `onMismatch` (the loader refuses it, naming file and rule); without it
 * the lists are merged (a user's ad-hoc rule naming a bundled library must not stop a scan).
 */
export function libraryIdentities(
  rules: Iterable<[string, SignatureMeta]>,
  onMismatch?: (rule: string, message: string) => void,
): Map<string, DeclaredIdentity> {
  const out = new Map<string, DeclaredIdentity>();
  for (const [rule, meta] of rules) {
    const known = out.get(meta.library);
    if (!known) {
      out.set(meta.library, { rule, sonames: meta.sonames, symbols: meta.symbols });
      continue;
    }
    if (same(known.sonames, meta.sonames) && same(known.symbols, meta.symbols)) continue;
    if (onMismatch) {
      onMismatch(
        rule,
        `meta sonames/symbols (${meta.sonames.join(', ')} / ${meta.symbols.join(', ')}) differ from those of rule ${known.rule} of library ${meta.library} (${known.sonames.join(', ')} / ${known.symbols.join(', ')})`,
      );
    }
    known.sonames = [...new Set([...known.sonames, ...meta.sonames])];
    known.symbols = [...new Set([...known.symbols, ...meta.symbols])];
  }
  return out;
}
