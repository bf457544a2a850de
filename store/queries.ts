// The questions the security team asks: who vendors library L at versions in range R (in a run),
// and which libraries and versions a run found. Version ranges become comparisons on version_key,
// which orders like the version module, so they run on the (library, version_key) index.
import { createHash } from 'node:crypto';
import type { Queryable } from './database.ts';
import { versionSortKey, type VersionRange } from '../signatures/version.ts';
import type { Linkage } from '../signatures/finding.ts';
import { VendorscanError } from '../errors/errors.ts';

export type UnknownMode = 'include' | 'exclude' | 'only';

/** What `--linkage` / `linkage=` accept: one linkage, or any. */
export const LINKAGE_CHOICES = ['any', 'copy', 'built-against', 'unknown'] as const;
export type LinkageChoice = (typeof LINKAGE_CHOICES)[number];

/**
 * The linkages a choice selects. Default: copies and unknowns (a possible copy is never hidden);
 * built-against findings are not copies and only answer "who links X" (`any` or `built-against`).
 */
export function linkagesOf(choice: LinkageChoice | undefined): Linkage[] | null {
  if (choice === 'any') return null;
  return choice === undefined ? ['copy', 'unknown'] : [choice];
}

/** SQL: finding f counts as a copy (everything but built-against). */
export const NOT_BUILT_AGAINST = `f.linkage <> 'built-against'`;

export interface VendorsQuery {
  runId: number;
  library: string;
  range: VersionRange | null;
  /** true: only vendored copies (default); false: only the library's own packages; null: both. */
  vendored: boolean | null;
  unknown: UnknownMode;
  /** Which linkages (linkagesOf); null: any; absent: copy and unknown (built-against is no copy). */
  linkage?: Linkage[] | null;
  limit: number;
  /** Rows to skip; must be 0 with `after`. */
  offset: number;
  /** Keyset pagination: the rows after this one in the page order (a page's `next`, decoded by parseVendorsCursor). */
  after?: VendorsCursor;
  /** Only these confidences (absent or empty: all). */
  confidence?: readonly Confidence[];
  /** Row order (default: store path); `descending` reverses it. */
  sort?: VendorSort;
  descending?: boolean;
}

export type Confidence = 'high' | 'medium' | 'low';
export type VendorSort = 'path' | 'package' | 'version' | 'confidence';
export const VENDOR_SORTS: readonly VendorSort[] = ['path', 'package', 'version', 'confidence'];

/**
 * The column each sort orders by first. Ties: in the path and package sorts the store path, file
 * and rule; in the version and confidence sorts the finding and the store path (ids), going the
 * same way as the key, so that an index on findings (library, key, id) gives the order itself and
 * a page stops after its rows (700 ms → 3 ms for a first page at 200,000 copies of one library:
 * ordering by store path there meant joining and sorting every copy first). Either way pages
 * never overlap.
 */
const SORT_KEY: Record<VendorSort, string | null> = {
  path: null,
  package: 'sp.pname',
  version: 'f.version_key',
  confidence: "CASE f.confidence WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END",
};

const CONFIDENCE_RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

/** Sorts whose ties are broken by ids (see SORT_KEY). */
const tiedById = (sort: VendorSort): boolean => sort === 'version' || sort === 'confidence';

/**
 * ORDER BY of a sort; `reversed` is the same order read backwards (a page near the end is read from
 * the end). The sort column goes up or down; the tie-breakers by name go up, except in the path
 * sort, where they are the sort; the tie-breakers by id go the sort's way (one index, read forward
 * or backward). Unknown versions come first going up, last going down.
 */
function orderBy(sort: VendorSort, descending: boolean, reversed: boolean): string {
  const dir = (ascending: boolean): string => (ascending !== reversed ? 'ASC' : 'DESC');
  const key = SORT_KEY[sort];
  const nulls = sort === 'version' ? (descending !== reversed ? ' NULLS LAST' : ' NULLS FIRST') : '';
  const parts = key ? [`${key} ${dir(!descending)}${nulls}`] : [];
  if (tiedById(sort)) return [...parts, `f.id ${dir(!descending)}`, `rp.store_path_id ${dir(!descending)}`].join(', ');
  const tiesAscending = key !== null || !descending;
  for (const tie of ['sp.path', 'f.file', 'f.rule']) parts.push(`${tie} ${dir(tiesAscending)}`);
  return parts.join(', ');
}

/**
 * A position in one order: the sort column's value of a row (the version's sort key, null when
 * unknown; the pname; the confidence; nothing for the path sort) and its tie-breakers.
 */
export interface VendorsCursor {
  sort: VendorSort;
  descending: boolean;
  key: string | null;
  /** The ties: store path, file and rule (path and package sorts), or the finding's and store path's ids (version and confidence). */
  ties: { path: string; file: string; rule: string } | { finding: number; storePath: number };
}

/** The `next` of a page, as the client passes it back in `after`: opaque, URL-safe (base64url of JSON). */
export function encodeVendorsCursor(c: VendorsCursor): string {
  const ties = 'finding' in c.ties ? [c.ties.finding, c.ties.storePath] : [c.ties.path, c.ties.file, c.ties.rule];
  return Buffer.from(JSON.stringify([c.sort, c.descending ? 'desc' : 'asc', c.key, ...ties])).toString('base64url');
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096 && !v.includes('\0');

/**
 * Reads an `after` for a query sorted by `sort` (`descending`): the cursor, or what is wrong with it.
 * Every value is checked for shape and type here and bound as a parameter in SQL.
 */
export function parseVendorsCursor(text: string, sort: VendorSort, descending: boolean): VendorsCursor | { error: string } {
  const bad = { error: 'after must be the "next" of a previous page (unchanged)' };
  if (text.length > 20_000 || !/^[A-Za-z0-9_-]+$/.test(text)) return bad;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return bad;
  }
  if (!Array.isArray(v) || v.length < 5 || v.length > 6) return bad;
  const [s, order, key, ...rest] = v as unknown[];
  if (!VENDOR_SORTS.some((k) => k === s) || (order !== 'asc' && order !== 'desc')) return bad;
  if (s !== sort || (order === 'desc') !== descending) return { error: `after is a position in sort=${String(s)}&order=${String(order)}, not in sort=${sort}&order=${descending ? 'desc' : 'asc'}: page with the sort it was made for` };
  const keyFits = sort === 'path' ? key === null : sort === 'version' ? key === null || isText(key) : sort === 'package' ? isText(key) : typeof key === 'string' && key in CONFIDENCE_RANK;
  if (!keyFits) return bad;
  if (tiedById(sort)) {
    const [finding, storePath] = rest;
    if (rest.length !== 2 || !isId(finding) || !isId(storePath)) return bad;
    return { sort, descending, key: key as string | null, ties: { finding, storePath } };
  }
  const [path, file, rule] = rest;
  if (rest.length !== 3 || !isText(path) || !isText(file) || !isText(rule)) return bad;
  return { sort, descending, key: key as string | null, ties: { path, file, rule } };
}

/**
 * SQL: the rows after cursor c in its order, with its values pushed onto params. Written as the
 * ORDER BY reads (key up or down, unknown versions first up and last down, ties by name up, by id
 * the sort's way; all down in the path sort), with a redundant bound on the leading column so an
 * index can start at the cursor.
 */
function afterCursor(c: VendorsCursor, params: unknown[]): string {
  const p = (v: unknown): string => `$${params.push(v)}`;
  const tieOp = (c.sort === 'path' || tiedById(c.sort)) && c.descending ? '<' : '>';
  const ties =
    'finding' in c.ties
      ? `(f.id, rp.store_path_id) ${tieOp} (${p(c.ties.finding)}::bigint, ${p(c.ties.storePath)}::bigint)`
      : `(sp.path, f.file, f.rule) ${tieOp} (${p(c.ties.path)}, ${p(c.ties.file)}, ${p(c.ties.rule)})`;
  if (c.sort === 'path') return `sp.path ${tieOp}= $${params.length - 2} AND ${ties}`;
  const k = SORT_KEY[c.sort] as string;
  const op = c.descending ? '<' : '>';
  if (c.sort === 'version' && c.key === null) {
    // Unknown versions: first going up (then every known one follows), last going down.
    return c.descending ? `${k} IS NULL AND ${ties}` : `(${k} IS NOT NULL OR ${ties})`;
  }
  const key = c.sort === 'confidence' ? CONFIDENCE_RANK[c.key as Confidence] : c.key;
  const at = p(key);
  const past = c.sort === 'version' && c.descending ? `(${k} IS NULL OR ${k} ${op} ${at})` : `${k} ${op} ${at}`;
  const bound = c.sort === 'version' && c.descending ? `(${k} IS NULL OR ${k} ${op}= ${at})` : `${k} ${op}= ${at}`;
  return `${bound} AND (${past} OR (${k} = ${at} AND ${ties}))`;
}

/** Offsets from which a page past the middle is read from the end (a deep OFFSET sorts everything before it). */
const FROM_END_AFTER = 1000;

export interface VendorRow {
  storePath: string;
  pname: string;
  /** The package's version from its store path name (parseDrvName), not the library's. */
  packageVersion: string | null;
  file: string;
  library: string;
  version: string | null;
  versionRaw: string | null;
  confidence: string;
  evidence: string;
  rule: string;
  vendored: boolean;
  linkage: Linkage;
  linkageReason: string;
}

/** SQL: whether finding f in store path sp is vendored (not the library's own package). */
export const VENDORED = `NOT EXISTS (SELECT 1 FROM library_packages lp WHERE lp.library = f.library AND lp.pname = sp.pname)`;

/**
 * The vendors query's SQL: `count` for the total (with `params`), `page` for one page (with
 * `pageParams`, then limit and offset; with `q.after` it starts after that row), `pageFromEnd` for
 * the same order read backwards (an offset page only: a keyset page is always read forward).
 */
export function vendorsSql(q: VendorsQuery): { count: string; page: string; pageFromEnd: string; params: unknown[]; pageParams: unknown[] } {
  const params: unknown[] = [q.runId, q.library];
  const where: string[] = ['rp.run_id = $1', 'f.library = $2'];
  const known: string[] = [];
  if (q.range) {
    const ors = q.range.alternatives.map((and) =>
      and
        .map((c) => {
          params.push(versionSortKey(c.version));
          return `f.version_key ${c.op} $${params.length}`;
        })
        .join(' AND '),
    );
    known.push(`(${ors.map((o) => `(${o})`).join(' OR ')})`);
  } else known.push('f.version_key IS NOT NULL');
  if (q.unknown === 'only') where.push('f.version_key IS NULL');
  else if (q.unknown === 'exclude') where.push(known.join(' AND '));
  else where.push(`(${known.join(' AND ')} OR f.version_key IS NULL)`);
  if (q.vendored !== null) where.push(q.vendored ? VENDORED : `NOT ${VENDORED}`);
  const linkage = q.linkage === undefined ? linkagesOf(undefined) : q.linkage;
  if (linkage !== null) {
    params.push(linkage);
    where.push(`f.linkage = ANY($${params.length}::text[])`);
  }
  if (q.confidence && q.confidence.length > 0) {
    params.push(q.confidence);
    where.push(`f.confidence = ANY($${params.length}::text[])`);
  }
  const from = `FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id WHERE ${where.join(' AND ')}`;
  const select = `SELECT sp.path, sp.pname, sp.version AS package_version, f.file, f.library, f.version, f.version_key, f.version_raw, f.confidence, f.evidence, f.rule, ${VENDORED} AS vendored,
            f.linkage, f.linkage_reason, f.id AS finding_id, rp.store_path_id ${from}`;
  const pageParams = [...params];
  const seek = q.after ? ` AND ${afterCursor(q.after, pageParams)}` : '';
  const page = (reversed: boolean): string => `${select}${reversed ? '' : seek} ORDER BY ${orderBy(q.sort ?? 'path', q.descending === true, reversed)} LIMIT $${pageParams.length + 1} OFFSET $${pageParams.length + 2}`;
  return { count: `SELECT count(*) AS n ${from}`, page: page(false), pageFromEnd: page(true), params, pageParams };
}

export interface VendorsPage {
  rows: VendorRow[];
  total: number;
  totals: VendorsTotal;
  /** The cursor of the page's last row (`after` for the next page), or null when no row follows. */
  next: string | null;
}

/**
 * The most rows an offset page may read past before its own (from the start, or from the end for a
 * page past the middle): an OFFSET reads every row it skips, ~5 µs each at a million findings, so
 * deeper pages took 0.5–1.1 s (issue 13: no page slower than 500 ms). Keyset pages (`after`) cost
 * the same at any depth.
 */
export const MAX_OFFSET_SKIP = 20_000;

/** The rows an offset page reads past before its own: from the start, or from the end for a page past the middle of an exact total. */
export function offsetSkip(offset: number, limit: number, total: number, exact = true): number {
  return exact && offset > total / 2 ? Math.max(0, total - offset - limit) : offset;
}

/** An offset page deeper than MAX_OFFSET_SKIP: page on with `after`. */
export class DeepOffsetError extends VendorscanError {
  constructor(offset: number, skip: number) {
    super('VS_DEEP_OFFSET', 'usage', `offset ${offset} would read ${skip} rows past before its page (at most ${MAX_OFFSET_SKIP}): page on with after, the next of the previous page, which costs the same at any depth`);
  }
}

export async function vendors(db: Queryable, q: VendorsQuery): Promise<VendorsPage> {
  if (q.after && (q.offset !== 0 || q.after.sort !== (q.sort ?? 'path') || q.after.descending !== (q.descending === true))) {
    throw new Error('vendors: a cursor goes with offset 0 and the sort it was made in');
  }
  const { count, page, pageFromEnd, params, pageParams } = vendorsSql(q);
  let rows: Record<string, unknown>[];
  // The total of a completed run is counted once per query and kept (issue 13 M9).
  let totals: VendorsTotal = { total: 0, exact: true, source: 'counted' };
  const countRows = async (): Promise<void> => {
    totals = await vendorsTotal(db, q.runId, count, params);
  };
  // One row more than the page says whether another follows.
  const forward = async (): Promise<Record<string, unknown>[]> => (await db.query<Record<string, unknown>>(page, [...pageParams, q.limit + 1, q.offset])).rows;
  let more: boolean;
  if (q.after || q.offset < FROM_END_AFTER) {
    // Two independent reads: on PostgreSQL's pool they run at once.
    [, rows] = await Promise.all([countRows(), forward()]);
    more = rows.length > q.limit;
    rows = rows.slice(0, q.limit);
  } else {
    await countRows();
    const total = totals.total;
    const fromEnd = totals.exact && q.offset > total / 2;
    const skip = offsetSkip(q.offset, q.limit, total, totals.exact);
    if (skip > MAX_OFFSET_SKIP) throw new DeepOffsetError(q.offset, skip);
    // Read from the end only when the total is exact: a capped one does not say where the end is.
    if (fromEnd) {
      const limit = Math.max(0, Math.min(q.limit, total - q.offset));
      rows = (await db.query<Record<string, unknown>>(pageFromEnd, [...pageParams, limit, Math.max(0, total - q.offset - limit)])).rows.reverse();
      more = q.offset + rows.length < total;
    } else {
      rows = await forward();
      more = rows.length > q.limit;
      rows = rows.slice(0, q.limit);
    }
  }
  const last = rows.at(-1);
  return { total: totals.total, totals, rows: rows.map(toVendorRow), next: more && last ? encodeVendorsCursor(cursorOf(last, q.sort ?? 'path', q.descending === true)) : null };
}

/** The position of a selected row in a sort. */
function cursorOf(r: Record<string, unknown>, sort: VendorSort, descending: boolean): VendorsCursor {
  const key = sort === 'package' ? String(r['pname']) : sort === 'version' ? ((r['version_key'] as string | null) ?? null) : sort === 'confidence' ? String(r['confidence']) : null;
  const ties = tiedById(sort) ? { finding: Number(r['finding_id']), storePath: Number(r['store_path_id']) } : { path: String(r['path']), file: String(r['file']), rule: String(r['rule']) };
  return { sort, descending, key, ties };
}

/** A row selected with path, pname, package_version, file, library, version, version_raw, confidence, evidence, rule, vendored, linkage, linkage_reason. */
/** A total: exact (counted once per completed run and query, then read back), or "at least" while a run is still going. */
export interface VendorsTotal {
  total: number;
  /** false: at least `total` (a run still going is counted up to a cap, not in full). */
  exact: boolean;
  /** 'cached': counted before for this completed run and query; 'counted': now; 'capped': counted up to the cap. */
  source: 'cached' | 'counted' | 'capped';
}

const COUNT_CAP = 10_000;

async function vendorsTotal(db: Queryable, runId: number, count: string, params: unknown[]): Promise<VendorsTotal> {
  const key = createHash('sha256').update(JSON.stringify([count, params.slice(1)])).digest('hex');
  const cached = await db.query<{ total: string }>('SELECT total FROM vendor_counts WHERE run_id = $1 AND query_key = $2', [runId, key]);
  if (cached.rows[0]) return { total: Number(cached.rows[0].total), exact: true, source: 'cached' };
  const state = await db.query<{ state: string }>('SELECT state FROM runs WHERE id = $1', [runId]);
  if (state.rows[0]?.state === 'completed') {
    const n = Number((await db.query<{ n: string }>(count, params)).rows[0]?.n ?? 0);
    await db.query('INSERT INTO vendor_counts (run_id, query_key, total) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [runId, key, n]);
    return { total: n, exact: true, source: 'counted' };
  }
  const capped = count.replace(/^SELECT count\(\*\) AS n (FROM[\s\S]*)$/, `SELECT count(*) AS n FROM (SELECT 1 $1 LIMIT ${COUNT_CAP + 1}) capped`);
  const n = Number((await db.query<{ n: string }>(capped, params)).rows[0]?.n ?? 0);
  return n > COUNT_CAP ? { total: COUNT_CAP, exact: false, source: 'capped' } : { total: n, exact: true, source: 'counted' };
}

export function toVendorRow(r: Record<string, unknown>): VendorRow {
  return {
    storePath: String(r['path']),
    pname: String(r['pname']),
    packageVersion: (r['package_version'] as string | null) ?? null,
    file: String(r['file']),
    library: String(r['library']),
    version: (r['version'] as string | null) ?? null,
    versionRaw: (r['version_raw'] as string | null) ?? null,
    confidence: String(r['confidence']),
    evidence: String(r['evidence']),
    rule: String(r['rule']),
    vendored: Boolean(r['vendored']),
    linkage: r['linkage'] as Linkage,
    linkageReason: String(r['linkage_reason']),
  };
}

export interface LibraryRow {
  library: string;
  version: string | null;
  copies: number;
  storePaths: number;
  vendoredCopies: number;
  /** Programs built against the shared library (not copies, not in the counts above). */
  builtAgainst: number;
}

/**
 * A run's libraries and versions. A completed run's are counted once (when it completes, or at the
 * first question after) and stored in run_library_counts; a run still going is counted live.
 */
export async function libraries(db: Queryable, runId: number): Promise<LibraryRow[]> {
  const run = await db.query<{ state: string; libraries_counted: boolean }>('SELECT state, libraries_counted FROM runs WHERE id = $1', [runId]);
  if (run.rows[0]?.libraries_counted) {
    const { rows } = await db.query<Record<string, unknown>>(
      'SELECT library, version, copies, store_paths, vendored_copies, built_against FROM run_library_counts WHERE run_id = $1 ORDER BY ord',
      [runId],
    );
    return rows.map(toLibraryRow);
  }
  if (run.rows[0]?.state === 'completed') {
    await storeLibraryCounts(db, runId);
    return libraries(db, runId);
  }
  const { rows } = await db.query<Record<string, unknown>>(`${LIBRARY_COUNTS} ORDER BY f.library, f.version_key NULLS FIRST`, [runId]);
  return rows.map(toLibraryRow);
}

/** Counts a completed run's libraries into run_library_counts, once (a second call, or a concurrent one, changes nothing). */
export async function storeLibraryCounts(db: Queryable, runId: number): Promise<void> {
  // Counted already: nothing to do (the statement below would still count before finding that out).
  const done = await db.query<{ libraries_counted: boolean }>('SELECT libraries_counted FROM runs WHERE id = $1', [runId]);
  if (done.rows[0]?.libraries_counted !== false) return;
  await db.query(
    `WITH claimed AS (
       UPDATE runs SET libraries_counted = true WHERE id = $1 AND state = 'completed' AND NOT libraries_counted RETURNING id
     ), counted AS (${LIBRARY_COUNTS})
     INSERT INTO run_library_counts (run_id, ord, library, version, copies, store_paths, vendored_copies, built_against)
     SELECT $1, row_number() OVER (ORDER BY library, version_key NULLS FIRST), library, version, copies, store_paths, vendored_copies, built_against
     FROM counted WHERE EXISTS (SELECT 1 FROM claimed)`,
    [runId],
  );
}

const LIBRARY_COUNTS = `SELECT f.library, f.version, f.version_key, count(*) FILTER (WHERE ${NOT_BUILT_AGAINST}) AS copies,
            count(DISTINCT rp.store_path_id) FILTER (WHERE ${NOT_BUILT_AGAINST}) AS store_paths,
            count(*) FILTER (WHERE ${VENDORED} AND ${NOT_BUILT_AGAINST}) AS vendored_copies,
            count(*) FILTER (WHERE f.linkage = 'built-against') AS built_against
     FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id
     WHERE rp.run_id = $1 GROUP BY f.library, f.version, f.version_key`;

function toLibraryRow(r: Record<string, unknown>): LibraryRow {
  return {
    library: String(r['library']),
    version: (r['version'] as string | null) ?? null,
    copies: Number(r['copies']),
    storePaths: Number(r['store_paths']),
    vendoredCopies: Number(r['vendored_copies']),
    builtAgainst: Number(r['built_against']),
  };
}

/**
 * Whether anything knows this library: the list of libraries' own packages, or a stored finding.
 * Two index look-ups, so that checking a request's parameter does not read every finding.
 */
export async function isKnownLibrary(db: Queryable, library: string): Promise<boolean> {
  const { rows } = await db.query<{ known: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM library_packages WHERE library = $1) OR EXISTS (SELECT 1 FROM findings WHERE library = $1) AS known',
    [library],
  );
  return rows[0]?.known === true;
}

/** Libraries the store knows by name (those with own packages listed); the signatures add theirs. */
export async function knownLibraryNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ library: string }>('SELECT DISTINCT library FROM library_packages ORDER BY library');
  return rows.map((r) => r.library);
}
