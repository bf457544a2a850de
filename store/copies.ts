// The copies a run found, as rows the answers build on (advisories, attribution and triage are
// added above the store, in services/decisions/): every finding of every store path of the run,
// with the package name and version from the store path name.
import type { Queryable } from './database.ts';
import { NOT_BUILT_AGAINST, toVendorRow, VENDORED, type VendorRow } from './queries.ts';

/** A copy as stored: the vendors answer's row. */
export type CopyRow = VendorRow;

/**
 * The copies of a run, of the given libraries only when `libraries` is given; ordered by store
 * path, file, library. Built-against findings (a program linked to the shared library) are no
 * copies and are left out; unknown ones stay, as possible copies.
 */
export async function runCopies(db: Queryable, runId: number, libraries: readonly string[] | null = null): Promise<CopyRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT sp.path, sp.pname, sp.version AS package_version, f.file, f.library, f.version, f.version_raw, f.confidence, f.evidence, f.rule, ${VENDORED} AS vendored,
            f.linkage, f.linkage_reason
     FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id
     WHERE rp.run_id = $1 AND ($2::text[] IS NULL OR f.library = ANY($2::text[])) AND ${NOT_BUILT_AGAINST}
     ORDER BY sp.path, f.file, f.library, f.rule`,
    [runId, libraries === null ? null : [...libraries]],
  );
  return rows.map(toVendorRow);
}
