// Advisories are data, not code: OSV records in this folder (and any extra folders an operator
// names) say which versions of a vendored library are vulnerable. This file loads them, refuses a
// malformed one by file and JSON pointer (against the official OSV schema, saved beside it), and
// answers "which advisories affect this library at this version" with the project's own version
// order passed in, so this file holds no version grammar of its own.
//
// The bundled records are checked against the schema only when they changed since they were last
// checked: VALIDATED_FILE holds the sha256 of the schema and every bundled record, and while the
// folder still hashes to it the schema (and ajv, which compiling it needs) is not loaded at all;
// those were ~180 ms of every command's start. A test keeps the digest true;
// `npm run advisories:digest` checks the records and writes it. Operators' folders are always checked.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv2020 as AjvClass, ErrorObject } from 'ajv/dist/2020.js';
import type AddFormats from 'ajv-formats';
import { LIBRARY_PACKAGES } from '../signatures/vendored.ts';

export const BUNDLED_ADVISORIES_DIR = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA_FILE = path.join(BUNDLED_ADVISORIES_DIR, 'osv-schema.json');
const VALIDATED_FILE = path.join(BUNDLED_ADVISORIES_DIR, 'validated.sha256');

/** Our private ecosystem: package names are the library names the signatures report. */
export const ECOSYSTEM = 'vendorscan';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'GIT' | 'SEMVER' | 'ECOSYSTEM';
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  type: string;
  url: string;
}

/** An OSV record as the schema allows it, plus the file it came from. */
export interface Advisory {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[] | null;
  related?: string[];
  summary?: string;
  details?: string;
  affected?: OsvAffected[] | null;
  references?: OsvReference[] | null;
  database_specific?: Record<string, unknown>;
  /** Absolute path of the file the record was read from; not part of the OSV record. */
  file: string;
}

/** A file that is not a usable advisory: which file, and where in it (a JSON pointer, "" = the whole file). */
export class AdvisoryError extends Error {
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, detail: string) {
    super(`${file}: ${field === '' ? '(whole file)' : field}: ${detail}`);
    this.name = 'AdvisoryError';
    this.file = file;
    this.field = field;
  }
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: Validate | null = null;

/**
 * The official schema, unchanged but for one thing: its closed list of ecosystems gains ours.
 * The schema only admits ecosystems registered with OSV, and ours is private by nature (see
 * README.md). Everything else, the id prefixes included, is checked as published.
 */
function osvValidator(): Validate {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { $defs?: Record<string, unknown> };
  const defs = schema.$defs;
  const official = defs?.['ecosystemWithSuffix'];
  if (!defs || !official) throw new Error(`${SCHEMA_FILE}: no $defs/ecosystemWithSuffix; the OSV schema changed shape, look again at the ecosystem override`);
  defs['ecosystemWithSuffix'] = { anyOf: [official, { const: ECOSYSTEM }] };
  const require = createRequire(import.meta.url);
  const { Ajv2020 } = require('ajv/dist/2020.js') as { Ajv2020: typeof AjvClass };
  const addFormats = require('ajv-formats') as typeof AddFormats;
  const ajv = new Ajv2020({ allErrors: false, strict: false });
  addFormats.default(ajv);
  validator = ajv.compile(schema);
  return validator;
}

const COMBINATORS = new Set(['oneOf', 'anyOf', 'allOf', 'if', 'not', 'contains']);

/** The most specific of the schema's complaints, with the pointer to the field it is about. */
function describe(errors: ErrorObject[]): { field: string; detail: string } {
  const ranked = [...errors].sort(
    (a, b) =>
      Number(COMBINATORS.has(a.keyword)) - Number(COMBINATORS.has(b.keyword)) ||
      b.instancePath.split('/').length - a.instancePath.split('/').length,
  );
  const e = ranked[0];
  if (!e) return { field: '', detail: 'does not match the OSV schema' };
  const params = e.params as Record<string, unknown>;
  const extra =
    e.keyword === 'required' ? params['missingProperty'] : e.keyword === 'additionalProperties' ? params['additionalProperty'] : undefined;
  const field = typeof extra === 'string' ? `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}` : e.instancePath;
  return { field, detail: `${e.message ?? 'is invalid'} (OSV schema ${e.schemaPath})` };
}

const KNOWN_LIBRARIES = new Set(Object.keys(LIBRARY_PACKAGES));

/** What the schema cannot say: our ecosystem's names, the ranges we evaluate, a source to cite. */
function checkOurRules(file: string, record: Advisory): void {
  if (path.basename(file) !== `${record.id}.json`) throw new AdvisoryError(file, '/id', `file must be named after the id: ${record.id}.json`);
  if (!record.references || record.references.length === 0) throw new AdvisoryError(file, '/references', 'an advisory must cite its source');
  (record.affected ?? []).forEach((affected, i) => {
    if (affected.package?.ecosystem !== ECOSYSTEM) return; // another ecosystem's entry: kept, never evaluated here
    if (!KNOWN_LIBRARIES.has(affected.package.name)) {
      throw new AdvisoryError(file, `/affected/${i}/package/name`, `unknown library "${affected.package.name}"; known: ${[...KNOWN_LIBRARIES].join(', ')}`);
    }
    if ((affected.ranges ?? []).length === 0 && (affected.versions ?? []).length === 0) {
      throw new AdvisoryError(file, `/affected/${i}`, 'needs ranges or versions');
    }
    (affected.ranges ?? []).forEach((range, j) => {
      if (range.type !== 'ECOSYSTEM') throw new AdvisoryError(file, `/affected/${i}/ranges/${j}/type`, `${ECOSYSTEM} ranges must be ECOSYSTEM, not ${range.type}`);
    });
  });
}

function loadFile(file: string, text: string, checkSchema: boolean): Advisory {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new AdvisoryError(file, '', `not JSON: ${(e as Error).message}`);
  }
  if (checkSchema) {
    const validate = osvValidator();
    if (!validate(data)) {
      const { field, detail } = describe(validate.errors ?? []);
      throw new AdvisoryError(file, field, detail);
    }
  }
  const record = { ...(data as Omit<Advisory, 'file'>), file };
  checkOurRules(file, record);
  return record;
}

/** A folder's advisory files (osv-schema.json is the schema, not an advisory), by name, with their text. */
function readFolder(dir: string): { file: string; name: string; text: string }[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json') && path.join(dir, n) !== SCHEMA_FILE)
    .sort()
    .map((name) => {
      const file = path.resolve(dir, name);
      return { file, name, text: readFileSync(file, 'utf8') };
    });
}

/** sha256 over the schema and each record's name and text, in name order. */
export function advisoriesDigest(records: { name: string; text: string }[]): string {
  const hash = createHash('sha256').update(readFileSync(SCHEMA_FILE));
  for (const r of records) hash.update(`\0${r.name}\0`).update(r.text);
  return hash.digest('hex');
}

/** The digest the bundled records had when they last passed the schema ('' when none is recorded). */
export function validatedDigest(): string {
  try {
    return readFileSync(VALIDATED_FILE, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Checks every bundled record against the schema and records their digest (`npm run advisories:digest`). */
export function writeValidatedDigest(): string {
  const records = readFolder(BUNDLED_ADVISORIES_DIR);
  for (const r of records) loadFile(r.file, r.text, true);
  const digest = advisoriesDigest(records);
  writeFileSync(VALIDATED_FILE, `${digest}\n`);
  return digest;
}

/**
 * Every *.json advisory in each folder; ids unique across all. By default the bundled folder; with
 * extra folders, pass [BUNDLED_ADVISORIES_DIR, ...extra]. Records are checked against the OSV
 * schema, except bundled ones unchanged since they last passed it (see the top of this file).
 */
export function loadAdvisories(dirs: string[] = [BUNDLED_ADVISORIES_DIR]): Advisory[] {
  const advisories: Advisory[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const records = readFolder(dir);
    const checkSchema = path.resolve(dir) !== BUNDLED_ADVISORIES_DIR || advisoriesDigest(records) !== validatedDigest();
    for (const r of records) {
      const advisory = loadFile(r.file, r.text, checkSchema);
      const earlier = seen.get(advisory.id);
      if (earlier) throw new AdvisoryError(r.file, '/id', `id ${advisory.id} is already used by ${earlier}`);
      seen.set(advisory.id, r.file);
      advisories.push(advisory);
    }
  }
  return advisories;
}

/** Orders two version strings as the project does; throws when it cannot read one. */
export type CompareVersions = (a: string, b: string) => number;

type Verdict = 'affected' | 'unaffected' | 'cannot-tell';

interface Point {
  version: string;
  kind: 'introduced' | 'fixed' | 'last_affected';
}

/** OSV's own evaluation of one ECOSYSTEM range (spec, "Evaluation"), with "0" before all and "*" after all. */
function inRange(version: string, range: OsvRange, compare: CompareVersions): boolean {
  const limits = range.events.flatMap((e) => (e.limit === undefined ? [] : [e.limit]));
  if (limits.length > 0 && !limits.some((l) => l.includes('*') || compare(version, l) < 0)) return false;
  const points = range.events.flatMap((e): Point[] =>
    e.introduced !== undefined ? [{ version: e.introduced, kind: 'introduced' }]
    : e.fixed !== undefined ? [{ version: e.fixed, kind: 'fixed' }]
    : e.last_affected !== undefined ? [{ version: e.last_affected, kind: 'last_affected' }]
    : [],
  );
  // Below every introduced event nothing can turn the range on: decide that without the other
  // bounds, so a bound the comparator cannot read only matters where it could change the answer.
  const starts = points.filter((p) => p.kind === 'introduced');
  if (!starts.some((p) => p.version === '0' || compare(version, p.version) >= 0)) return false;
  // Sorting the events and walking them leaves the state of the last event at or below the
  // version; find that event directly. At equal versions a fixed/last_affected outranks an
  // introduced, so {introduced X, fixed X} is empty and last_affected X still covers X itself.
  let last: Point | null = null;
  for (const p of points) {
    const reached =
      p.kind === 'introduced' ? p.version === '0' || compare(version, p.version) >= 0
      : p.kind === 'fixed' ? compare(version, p.version) >= 0
      : compare(version, p.version) > 0;
    if (!reached) continue;
    if (!last) {
      last = p;
      continue;
    }
    const order = p.version === '0' ? (last.version === '0' ? 0 : -1) : last.version === '0' ? 1 : compare(p.version, last.version);
    if (order > 0 || (order === 0 && p.kind !== 'introduced')) last = p;
  }
  return last?.kind === 'introduced';
}

function verdict(advisory: Advisory, library: string, version: string, compare: CompareVersions): Verdict {
  let result: Verdict = 'unaffected';
  for (const affected of advisory.affected ?? []) {
    if (affected.package?.ecosystem !== ECOSYSTEM || affected.package.name !== library) continue;
    try {
      if ((affected.versions ?? []).some((v) => v === version || compare(version, v) === 0)) return 'affected';
      if ((affected.ranges ?? []).some((r) => r.type === 'ECOSYSTEM' && inRange(version, r, compare))) return 'affected';
    } catch {
      // The comparator could not read the version or a bound: say so rather than guess.
      result = 'cannot-tell';
    }
  }
  return result;
}

function concerns(advisory: Advisory, library: string): boolean {
  return (advisory.affected ?? []).some((a) => a.package?.ecosystem === ECOSYSTEM && a.package.name === library);
}

/**
 * The advisories of `library` that affect `version`, and those that may but cannot be decided:
 * the version is unknown (null), or the comparator throws on it or on one of the advisory's bounds.
 * Withdrawn advisories are left out.
 */
export function advisoriesFor(
  library: string,
  version: string | null,
  advisories: readonly Advisory[],
  compare: CompareVersions,
): { affected: Advisory[]; cannotTell: Advisory[] } {
  const affected: Advisory[] = [];
  const cannotTell: Advisory[] = [];
  for (const advisory of advisories) {
    if (advisory.withdrawn !== undefined || !concerns(advisory, library)) continue;
    if (version === null) {
      cannotTell.push(advisory);
      continue;
    }
    const v = verdict(advisory, library, version, compare);
    if (v === 'affected') affected.push(advisory);
    else if (v === 'cannot-tell') cannotTell.push(advisory);
  }
  return { affected, cannotTell };
}
