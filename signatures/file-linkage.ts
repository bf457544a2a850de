// The linkage of a file that library signatures hit: for each library found, is the file a copy
// (defines the library's functions, or is the library), built against it (NEEDs its soname,
// imports its functions: the hit was only header strings), or unknown (not ELF nor ar, stripped,
// or read in windows)? Runs in the scan thread on the bytes the matcher already holds.
//
// Files read in windows (over the whole-file cap, 256 MiB by default) are 'unknown': their section
// headers sit at the end, .dynamic after .text (lld's layout) and .symtab near the end, so neither
// the first nor the last window reliably holds the tables, and holding more would break the memory
// bound. Files that large are browsers, Electron, CEF and big static programs: copies in practice,
// and an unknown finding is kept as a possible copy, never dropped.
import { classifyLinkages, type LibraryIdentity, type LinkageVerdict } from '../formats/linkage.ts';
import type { RuleHit } from '../yara/file-matcher.ts';
import { ADHOC_LIBRARY } from './file-findings.ts';
import { libraryIdentities } from './library-linkage.ts';
import { signatureMeta, SignatureMetaError, type MetaValues, type SignatureMeta } from './signature-meta.ts';

export type { Linkage, LinkageVerdict } from '../formats/linkage.ts';

/**
 * Part of the ruleset digest (loader.ts signatureDigest): raise it when the linkage check gives
 * other verdicts for the same bytes, so that the next run rescans instead of linking stored
 * findings. 1: linkage first recorded (findings stored before it read 'unknown').
 */
export const LINKAGE_REVISION = 1;

/** Library name → verdict, for the libraries found in one file. */
export type FileLinkage = Record<string, LinkageVerdict>;

export const WINDOWED: LinkageVerdict = {
  linkage: 'unknown',
  reason: 'file over the whole-file cap, scanned in windows: its dynamic section and symbol tables were not read',
};

/** Classifies files against the identities the rules' meta declare. */
export class LinkageChecker {
  private readonly identities: Map<string, LibraryIdentity>;
  private readonly libraryOf = new Map<string, string>();

  /** `metas`: rule name → meta as written (loader.ts ruleMetas), ad-hoc rules included. */
  constructor(metas: Map<string, MetaValues>) {
    const rules: [string, SignatureMeta][] = [];
    for (const [rule, values] of metas) {
      if (values['library'] === undefined || values['library'] === ADHOC_LIBRARY) continue;
      try {
        const meta = signatureMeta(values, null);
        rules.push([rule, meta]);
        this.libraryOf.set(rule, meta.library);
      } catch (err) {
        // A user's rule with malformed meta: findings.ts reports it; it gives no identity here.
        if (!(err instanceof SignatureMetaError)) throw err;
      }
    }
    this.identities = libraryIdentities(rules);
  }

  /** The verdicts for the libraries `hits` found; undefined when they found none (ad-hoc hits only). */
  check(hits: RuleHit[], whole: Uint8Array | null): FileLinkage | undefined {
    const libs = new Map<string, LibraryIdentity>();
    for (const h of hits) {
      const library = this.libraryOf.get(h.rule);
      const id = library === undefined ? undefined : this.identities.get(library);
      if (library !== undefined && id) libs.set(library, id);
    }
    if (libs.size === 0) return undefined;
    const out: FileLinkage = {};
    if (whole === null) {
      for (const library of libs.keys()) out[library] = WINDOWED;
      return out;
    }
    for (const [library, verdict] of classifyLinkages(whole, libs)) out[library] = verdict;
    return out;
  }
}
