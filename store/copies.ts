// The copies a run found, as rows the answers build on (advisories, attribution and triage are
// added above the store, in services/decisions/): every finding of every store path of the run,
// with the package name and version from the store path name.
import type { Queryable } from './database.ts';

export interface CopyRow {
  storePath: string;
  pname: string;
  /** The package version from the store path name (Nix's parseDrvName); null when it has none. */
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

const VENDORED = 'NOT EXISTS (SELECT 1 FROM library_packages lp WHERE lp.library = f.library AND lp.pname = sp.pname)';

/** The copies of a run, of the given libraries only when `libraries` is given; ordered by store path, file, library. */
export async function runCopies(db: Queryable, runId: number, libraries: readonly string[] | null = null): Promise<CopyRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT sp.path, sp.pname, sp.version AS package_version, f.file, f.library, f.version, f.version_raw, f.confidence, f.evidence, f.rule, ${VENDORED} AS vendored
     FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id
     WHERE rp.run_id = $1 AND ($2::text[] IS NULL OR f.library = ANY($2::text[]))
     ORDER BY sp.path, f.file, f.library, f.rule`,
    [runId, libraries === null ? null : [...libraries]],
  );
  return rows.map((r) => ({
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
  }));
}
