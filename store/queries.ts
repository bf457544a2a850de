// The questions the security team asks: who vendors library L at versions in range R (in a run),
// and which libraries and versions a run found. Version ranges become comparisons on version_key,
// which orders like the version module, so they run on the (library, version_key) index.
import type { Queryable } from './database.ts';
import { versionSortKey, type VersionRange } from '../signatures/version.ts';

export type UnknownMode = 'include' | 'exclude' | 'only';

export interface VendorsQuery {
  runId: number;
  library: string;
  range: VersionRange | null;
  /** true: only vendored copies (default); false: only the library's own packages; null: both. */
  vendored: boolean | null;
  unknown: UnknownMode;
  limit: number;
  offset: number;
}

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
}

/** SQL: whether finding f in store path sp is vendored (not the library's own package). */
export const VENDORED = `NOT EXISTS (SELECT 1 FROM library_packages lp WHERE lp.library = f.library AND lp.pname = sp.pname)`;

/** The vendors query's SQL: `count` for the total, `page` for one page (its last two parameters are limit and offset). */
export function vendorsSql(q: VendorsQuery): { count: string; page: string; params: unknown[] } {
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
  const from = `FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id WHERE ${where.join(' AND ')}`;
  return {
    count: `SELECT count(*) AS n ${from}`,
    page: `SELECT sp.path, sp.pname, sp.version AS package_version, f.file, f.library, f.version, f.version_raw, f.confidence, f.evidence, f.rule, ${VENDORED} AS vendored
     ${from} ORDER BY sp.path, f.file, f.rule LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    params,
  };
}

export async function vendors(db: Queryable, q: VendorsQuery): Promise<{ rows: VendorRow[]; total: number }> {
  const { count, page, params } = vendorsSql(q);
  const total = await db.query<{ n: string }>(count, params);
  const { rows } = await db.query<Record<string, unknown>>(page, [...params, q.limit, q.offset]);
  return {
    total: Number(total.rows[0]?.n ?? 0),
    rows: rows.map(toVendorRow),
  };
}

/** A row selected with path, pname, package_version, file, library, version, version_raw, confidence, evidence, rule, vendored. */
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
  };
}

export interface LibraryRow {
  library: string;
  version: string | null;
  copies: number;
  storePaths: number;
  vendoredCopies: number;
}

export async function libraries(db: Queryable, runId: number): Promise<LibraryRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT f.library, f.version, count(*) AS copies, count(DISTINCT rp.store_path_id) AS store_paths,
            count(*) FILTER (WHERE ${VENDORED}) AS vendored_copies
     FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id
     WHERE rp.run_id = $1 GROUP BY f.library, f.version, f.version_key ORDER BY f.library, f.version_key NULLS FIRST`,
    [runId],
  );
  return rows.map((r) => ({
    library: String(r['library']),
    version: (r['version'] as string | null) ?? null,
    copies: Number(r['copies']),
    storePaths: Number(r['store_paths']),
    vendoredCopies: Number(r['vendored_copies']),
  }));
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
