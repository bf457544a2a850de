// The triage file: decisions people made about findings ("checked, not affected"), in the spirit
// of vulnix's whitelist. Each [[suppress]] entry matches copies by pname (optionally the package
// version), store path, library and/or advisory, says why, and may stop applying after a date.
// Parsing is strict: an unknown key, a wrong type or an unknown advisory is an error naming the
// file, the entry and the key, because a typo here silently hides or shows findings.
import { parse, TomlDate, TomlError } from 'smol-toml';
import { VendorscanError } from '../errors/errors.ts';
import { findAdvisory } from './evaluate.ts';
import type { Advisory } from './loader.ts';

export class TriageFileError extends VendorscanError {
  constructor(source: string, where: string, message: string) {
    super('VS_TRIAGE_FILE', 'config', `${source}${where === '' ? '' : `: ${where}`}: ${message}`);
  }
}

export interface TriageEntry {
  /** 1-based position in the file, for messages. */
  index: number;
  pname: string | null;
  /** The package version from the store path name; only with pname. */
  version: string | null;
  storePath: string | null;
  library: string | null;
  /** Canonical advisory ids (aliases resolved); empty: any advisory, and the copy itself. */
  advisories: string[];
  reason: string;
  /** Last day (UTC, YYYY-MM-DD) the entry applies; null: no end. */
  until: string | null;
}

/** What matching needs of a copy. */
export interface TriageSubject {
  storePath: string;
  pname: string;
  packageVersion: string | null;
  library: string;
}

const KEYS = new Set(['pname', 'version', 'store_path', 'library', 'advisory', 'advisories', 'reason', 'until', 'issue']);

function dateText(v: unknown): string | null {
  if (v instanceof TomlDate) {
    if (!v.isDate()) return null;
    return v.toISOString().slice(0, 10);
  }
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) return v;
  return null;
}

/** Parses a triage file's text; `source` names it in errors; advisory ids are checked against `advisories`. */
export function parseTriage(text: string, source: string, advisories: readonly Advisory[]): TriageEntry[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? `line ${err.line}, column ${err.column}` : '';
    throw new TriageFileError(source, where, `not TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  for (const key of Object.keys(doc)) if (key !== 'suppress') throw new TriageFileError(source, key, 'unknown table; entries are [[suppress]] tables');
  const raw = doc['suppress'] ?? [];
  if (!Array.isArray(raw)) throw new TriageFileError(source, 'suppress', 'must be an array of tables: [[suppress]]');
  return raw.map((item: unknown, i): TriageEntry => {
    const where = (key?: string): string => `[[suppress]] #${i + 1}${key ? ` ${key}` : ''}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new TriageFileError(source, where(), 'must be a table');
    const e = item as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!KEYS.has(key)) throw new TriageFileError(source, where(key), `unknown key; known: ${[...KEYS].join(', ')}`);
    const str = (key: string): string | null => {
      const v = e[key];
      if (v === undefined) return null;
      if (typeof v !== 'string' || v.trim() === '') throw new TriageFileError(source, where(key), 'must be a non-empty string');
      return v.trim();
    };
    const reason = str('reason');
    if (reason === null) throw new TriageFileError(source, where('reason'), 'every entry needs a reason');
    str('issue');
    const pname = str('pname');
    const version = str('version');
    if (version !== null && pname === null) throw new TriageFileError(source, where('version'), 'version needs pname');
    const storePath = str('store_path');
    if (storePath !== null && !/^\/nix\/store\/[0-9a-z]{32}-/.test(storePath)) throw new TriageFileError(source, where('store_path'), `"${storePath}" is not a store path`);
    const library = str('library');
    if (e['advisory'] !== undefined && e['advisories'] !== undefined) throw new TriageFileError(source, where('advisories'), 'give advisory or advisories, not both');
    const given = e['advisories'] ?? (e['advisory'] === undefined ? [] : [e['advisory']]);
    if (!Array.isArray(given) || given.some((a) => typeof a !== 'string')) throw new TriageFileError(source, where(e['advisories'] === undefined ? 'advisory' : 'advisories'), 'must be an advisory id or a list of them');
    const ids = (given as string[]).map((a) => {
      const found = findAdvisory(advisories, a);
      if (!found) throw new TriageFileError(source, where('advisory'), `unknown advisory "${a}"`);
      return found.id;
    });
    let until: string | null = null;
    if (e['until'] !== undefined) {
      until = dateText(e['until']);
      if (until === null) throw new TriageFileError(source, where('until'), 'must be a date such as 2026-12-31');
    }
    if (pname === null && storePath === null && library === null && ids.length === 0) {
      throw new TriageFileError(source, where(), 'matches everything: give pname, store_path, library or advisory');
    }
    return { index: i + 1, pname, version, storePath, library, advisories: ids, reason, until };
  });
}

/** Today in UTC, as the entries' `until` is written. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function applies(entry: TriageEntry, copy: TriageSubject, today: string): boolean {
  if (entry.until !== null && today > entry.until) return false;
  if (entry.pname !== null && entry.pname !== copy.pname) return false;
  if (entry.version !== null && entry.version !== copy.packageVersion) return false;
  if (entry.storePath !== null && entry.storePath !== copy.storePath) return false;
  if (entry.library !== null && entry.library !== copy.library) return false;
  return true;
}

/**
 * The entries that suppress this copy under `advisory` (an entry naming advisories only covers
 * those), or, with advisory null, the copy as a whole given the advisories it falls under: it is
 * suppressed by an entry naming no advisory, or when each of its advisories is covered by one.
 */
export function triageOf(entries: readonly TriageEntry[], copy: TriageSubject, advisory: string | null, copyAdvisories: readonly string[], today: string): TriageEntry[] {
  const active = entries.filter((e) => applies(e, copy, today));
  if (advisory !== null) return active.filter((e) => e.advisories.length === 0 || e.advisories.includes(advisory));
  const whole = active.filter((e) => e.advisories.length === 0);
  if (whole.length > 0) return whole;
  if (copyAdvisories.length === 0) return [];
  const covering = copyAdvisories.map((a) => active.find((e) => e.advisories.includes(a)));
  return covering.every((e) => e !== undefined) ? [...new Set(covering as TriageEntry[])] : [];
}
