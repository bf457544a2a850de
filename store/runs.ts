// Runs and their per-store-path results. Every write is idempotent: a job retried after a worker
// was killed writes the same rows again without duplicating any (upserts keyed by run and path,
// findings keyed by NAR scan, file, library and rule).
import type { Database, Queryable } from './database.js';
import type { FileFinding, PathResult } from '../workers/scan/path-result.js';
import { parseStorePath } from '../workers/cache/store-path.js';
import { parseVersion, versionSortKey } from '../workers/findings/version.js';
import { isVendored } from '../workers/findings/vendored.js';

export type RunState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type RunPathStatus = 'pending' | 'scanned' | 'skipped-unchanged' | 'not-in-cache' | 'failed';

export interface RunSource {
  kind: 'channel' | 'paths' | 'path';
  channel?: string;
  label: string;
}

export interface RunRow {
  id: number;
  source: RunSource;
  cacheUrl: string;
  rulesetDigest: string;
  state: RunState;
  total: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunProgress extends RunRow {
  scanned: number;
  skipped: number;
  notInCache: number;
  failed: number;
  pending: number;
  downloadedBytes: number;
  narBytes: number;
  findings: number;
}

export async function createRun(db: Queryable, run: { source: RunSource; cacheUrl: string; rulesetDigest: string }): Promise<number> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO runs (source, cache_url, ruleset_digest) VALUES ($1, $2, $3) RETURNING id', [
    JSON.stringify(run.source),
    run.cacheUrl,
    run.rulesetDigest,
  ]);
  return Number(rows[0]?.id);
}

export async function markRunStarted(db: Queryable, runId: number): Promise<void> {
  await db.query("UPDATE runs SET state = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1 AND state = 'queued'", [runId]);
}

export async function markRunFailed(db: Queryable, runId: number, error: string): Promise<void> {
  await db.query("UPDATE runs SET state = 'failed', error = $2, finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')", [runId, error]);
}

async function storePathId(db: Queryable, path: string): Promise<number> {
  const sp = parseStorePath(path);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO store_paths (path, hash, pname, version) VALUES ($1, $2, $3, $4)
     ON CONFLICT (path) DO UPDATE SET path = EXCLUDED.path RETURNING id`,
    [sp.path, sp.hash, sp.pname, sp.version],
  );
  return Number(rows[0]?.id);
}

/** Registers the run's store paths as pending (idempotent); invalid paths are returned, not added. */
export async function addRunPaths(db: Database, runId: number, paths: string[]): Promise<string[]> {
  const invalid: string[] = [];
  await db.transaction(async (tx) => {
    for (const p of paths) {
      let id: number;
      try {
        id = await storePathId(tx, p);
      } catch {
        invalid.push(p);
        continue;
      }
      await tx.query("INSERT INTO run_paths (run_id, store_path_id, status) VALUES ($1, $2, 'pending') ON CONFLICT DO NOTHING", [runId, id]);
    }
  });
  return invalid;
}

export async function setRunTotal(db: Queryable, runId: number, total: number): Promise<void> {
  await db.query('UPDATE runs SET total = $2 WHERE id = $1', [runId, total]);
}

/** The stored scan of this NAR under this ruleset, if any: an unchanged NAR is linked, not downloaded. */
export async function findNarScan(db: Queryable, narHash: string, rulesetDigest: string): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM nar_scans WHERE nar_hash = $1 AND ruleset_digest = $2', [narHash, rulesetDigest]);
  return rows[0] ? Number(rows[0].id) : null;
}

/** Records one store path's outcome in a run. Safe to repeat. */
export async function recordPathResult(db: Database, runId: number, rulesetDigest: string, result: PathResult & { linkedNarScan?: number }): Promise<void> {
  await db.transaction(async (tx) => {
    let id: number;
    try {
      id = await storePathId(tx, result.storePath);
    } catch {
      return; // not a store path: reported in the run's summary, nothing to key it by
    }
    let narScanId: number | null = result.linkedNarScan ?? null;
    if (result.status === 'scanned' && result.narHash && result.linkedNarScan === undefined) {
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO nar_scans (nar_hash, ruleset_digest, nar_size, files) VALUES ($1, $2, $3, $4)
         ON CONFLICT (nar_hash, ruleset_digest) DO UPDATE SET nar_hash = EXCLUDED.nar_hash RETURNING id`,
        [result.narHash, rulesetDigest, result.narSize ?? result.narBytes, result.files],
      );
      narScanId = Number(inserted.rows[0]?.id);
      for (const f of result.findings) {
        const parsed = f.version === null ? null : parseVersion(f.version);
        await tx.query(
          `INSERT INTO findings (nar_scan_id, file, library, version, version_raw, version_key, rule, confidence, evidence, matches)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
          [narScanId, f.file, f.library, parsed ? f.version : null, parsed ? f.versionRaw : (f.versionRaw ?? f.version), parsed ? versionSortKey(parsed) : null, f.rule, f.confidence, f.evidence, JSON.stringify(f.matches)],
        );
      }
    }
    const status: RunPathStatus = result.linkedNarScan !== undefined ? 'skipped-unchanged' : result.status;
    await tx.query(
      `INSERT INTO run_paths (run_id, store_path_id, status, reason, nar_scan_id, downloaded_bytes, nar_bytes, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (run_id, store_path_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
         nar_scan_id = EXCLUDED.nar_scan_id, downloaded_bytes = EXCLUDED.downloaded_bytes, nar_bytes = EXCLUDED.nar_bytes, updated_at = now()`,
      [runId, id, status, result.reason ?? null, narScanId, result.downloadedBytes, result.narBytes],
    );
  });
}

/**
 * Closes the run once the whole source was read (total is set only after every path of the source
 * is registered) and no path is pending. Cheap: called after every path. Returns true if it closed.
 */
export async function completeRunIfSettled(db: Queryable, runId: number): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE runs SET state = 'completed', finished_at = now()
     WHERE id = $1 AND state = 'running' AND total IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM run_paths WHERE run_id = $1 AND status = 'pending')
     RETURNING id`,
    [runId],
  );
  return rows.length > 0;
}

function toRun(r: Record<string, unknown>): RunRow {
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return {
    id: Number(r['id']),
    source: (typeof r['source'] === 'string' ? JSON.parse(r['source']) : r['source']) as RunSource,
    cacheUrl: String(r['cache_url']),
    rulesetDigest: String(r['ruleset_digest']),
    state: r['state'] as RunState,
    total: r['total'] === null ? null : Number(r['total']),
    error: (r['error'] as string | null) ?? null,
    createdAt: iso(r['created_at']) ?? '',
    startedAt: iso(r['started_at']),
    finishedAt: iso(r['finished_at']),
  };
}

export async function runProgress(db: Queryable, runId: number): Promise<RunProgress | null> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT r.*,
       count(*) FILTER (WHERE rp.status = 'scanned') AS scanned,
       count(*) FILTER (WHERE rp.status = 'skipped-unchanged') AS skipped,
       count(*) FILTER (WHERE rp.status = 'not-in-cache') AS not_in_cache,
       count(*) FILTER (WHERE rp.status = 'failed') AS failed,
       count(*) FILTER (WHERE rp.status = 'pending') AS pending,
       COALESCE(sum(rp.downloaded_bytes), 0) AS downloaded_bytes,
       COALESCE(sum(rp.nar_bytes), 0) AS nar_bytes,
       (SELECT count(*) FROM run_paths x JOIN findings f ON f.nar_scan_id = x.nar_scan_id WHERE x.run_id = r.id) AS findings
     FROM runs r LEFT JOIN run_paths rp ON rp.run_id = r.id
     WHERE r.id = $1 GROUP BY r.id`,
    [runId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    ...toRun(r),
    scanned: Number(r['scanned']),
    skipped: Number(r['skipped']),
    notInCache: Number(r['not_in_cache']),
    failed: Number(r['failed']),
    pending: Number(r['pending']),
    downloadedBytes: Number(r['downloaded_bytes']),
    narBytes: Number(r['nar_bytes']),
    findings: Number(r['findings']),
  };
}

export async function listRuns(db: Queryable, limit = 50): Promise<RunRow[]> {
  const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM runs ORDER BY id DESC LIMIT $1', [limit]);
  return rows.map(toRun);
}

export async function latestCompletedRun(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM runs WHERE state = 'completed' ORDER BY finished_at DESC, id DESC LIMIT 1");
  return rows[0] ? Number(rows[0].id) : null;
}

export async function runFailures(db: Queryable, runId: number, limit = 1000): Promise<{ storePath: string; status: RunPathStatus; reason: string | null }[]> {
  const { rows } = await db.query<{ path: string; status: RunPathStatus; reason: string | null }>(
    "SELECT sp.path, rp.status, rp.reason FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1 AND rp.status IN ('failed', 'not-in-cache') ORDER BY sp.path LIMIT $2",
    [runId, limit],
  );
  return rows.map((r) => ({ storePath: r.path, status: r.status, reason: r.reason }));
}

/** The findings of a stored NAR scan, as the scanner reports them for `storePath`. */
export async function narScanFindings(db: Queryable, narScanId: number, storePath: string): Promise<FileFinding[]> {
  const { pname } = parseStorePath(storePath);
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT file, library, version, version_raw, rule, confidence, evidence, matches FROM findings WHERE nar_scan_id = $1 ORDER BY file, library, rule',
    [narScanId],
  );
  return rows.map((r) => ({
    storePath,
    file: String(r['file']),
    library: String(r['library']),
    version: (r['version'] as string | null) ?? null,
    versionRaw: (r['version_raw'] as string | null) ?? null,
    rule: String(r['rule']),
    confidence: r['confidence'] as FileFinding['confidence'],
    evidence: String(r['evidence']),
    vendored: isVendored(String(r['library']), pname),
    matches: (typeof r['matches'] === 'string' ? JSON.parse(r['matches']) : r['matches']) as FileFinding['matches'],
  }));
}
