// A finding: a library (or ad-hoc pattern) in one file of one store path, with the evidence that
// decided its version. Plain data: it crosses scan-thread boundaries and is what the store keeps.
import type { Confidence } from './signature-meta.ts';
import type { Linkage } from '../formats/linkage.ts';

export type { Linkage } from '../formats/linkage.ts';

export type { Confidence } from './signature-meta.ts';

/** One matched string, with its offset inside the file and the bytes as printable text. */
export interface MatchedString {
  identifier: string;
  offset: number;
  length: number;
  /** latin1 text with non-printable bytes escaped as \xNN. */
  text: string;
}

export interface RuleMatchRecord {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: MatchedString[];
}

/** A library (or ad-hoc pattern) found in one file of one store path. */
export interface FileFinding {
  storePath: string;
  /** Path inside the store path ('' when the store path is itself a file). */
  file: string;
  library: string;
  /** Parsed version, or null when the binary holds no readable version. */
  version: string | null;
  /** Verbatim version text when it could not be parsed. */
  versionRaw: string | null;
  /** The rule whose evidence decided the version (the strongest one). */
  rule: string;
  confidence: Confidence;
  evidence: string;
  /** false in the library's own package, true everywhere else. */
  vendored: boolean;
  /**
   * copy: the file defines the library's code (static, bundled, or the library itself);
   * built-against: it NEEDs the library's soname and imports its functions (header strings only),
   * not a copy; unknown: not ELF nor ar, stripped, or read in windows (kept as a possible copy).
   */
  linkage: Linkage;
  /** Why: "NEEDs libssl.so.3", "defines zlibVersion", "is the library itself (DT_SONAME …)", … */
  linkageReason: string;
  matches: RuleMatchRecord[];
}
