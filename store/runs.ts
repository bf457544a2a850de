// Runs and their per-store-path results. Every write is idempotent: a job retried after a worker
// was killed writes the same rows again without duplicating any (upserts keyed by run and path,
// findings keyed by NAR scan, file, library and rule).
import type { Database, Queryable } from './database.ts';
import type { FileFinding, PathResult } from '../scanner/path-result.ts';
import { parseStorePath, type StorePath } from '../nix/store-path.ts';
import { forRegisteredBatches, parseStorePaths, registerStorePaths } from './store-paths.ts';
import { parseVersion, versionSortKey } from '../signatures/version.ts';
import { isVendored } from '../signatures/vendored.ts';
import { storeLibraryCounts } from './queries.ts';

export type RunState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type RunPathStatus = 'pending' | 'scanned' | 'skipped-unchanged' | 'not-in-cache' | 'failed';

export interface RunSource {
  kind: 'channel' | 'paths' | 'path';
  channel?: string;
  label: string;
}

export interface RunRow {
  id: number;
  kind: RunKind;
  channelRevision: string | null;
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
  /** Faults met and survived: requests and NAR downloads begun again (5xx, 429, resets, stalls), summed over paths. */
  retries: number;
  /** Paths a job took up more than once (its job was lost with Redis, or its worker or the store failed mid-job). */
  reattempted: number;
}

/**
 * A library scan (signatures over a channel or path list) answers "who vendors X"; an ad-hoc scan
 * (needle, hex, a user's rule) is kept but never answers and is never "the latest run".
 */
export type RunKind = 'library-scan' | 'adhoc-scan';

export async function createRun(db: Queryable, run: { source: RunSource; cacheUrl: string; rulesetDigest: string; kind?: RunKind }): Promise<number> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO runs (source, cache_url, ruleset_digest, kind, channel) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
    JSON.stringify(run.source),
    run.cacheUrl,
    run.rulesetDigest,
    run.kind ?? 'library-scan',
    run.source.kind === 'channel' ? (run.source.channel ?? null) : null,
  ]);
  return Number(rows[0]?.id);
}

/** The channel's revision, where the channel host names it (the release its store-paths.xz redirects to). */
export async function setChannelRevision(db: Queryable, runId: number, revision: string): Promise<void> {
  await db.query('UPDATE runs SET channel_revision = $2 WHERE id = $1', [runId, revision]);
}

export async function markRunStarted(db: Queryable, runId: number): Promise<void> {
  await db.query("UPDATE runs SET state = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1 AND state = 'queued'", [runId]);
}

export async function markRunFailed(db: Queryable, runId: number, error: string): Promise<void> {
  await db.query("UPDATE runs SET state = 'failed', error = $2, finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')", [runId, error]);
}

/**
 * Registers the run's store paths as pending (idempotent). Returns the paths registered, parsed
 * and each once, and the invalid inputs, which are not added.
 */
export async function addRunPaths(db: Database, runId: number, paths: string[]): Promise<{ registered: string[]; invalid: string[] }> {
  const { valid, invalid } = parseStorePaths(paths);
  await db.transaction((tx) =>
    forRegisteredBatches(tx, valid, async (batch) => {
      await tx.query("INSERT INTO run_paths (run_id, store_path_id, status) SELECT $1, id, 'pending' FROM store_paths WHERE path = ANY($2::text[]) ON CONFLICT DO NOTHING", [runId, batch]);
    }),
  );
  return { registered: valid.map((p) => p.path), invalid };
}

/** Marks the given paths that are still pending as failed (a job that gave up on them); then the run may close. */
export async function failPendingRunPaths(db: Queryable, runId: number, paths: string[], reason: string): Promise<void> {
  await db.query(
    `UPDATE run_paths SET status = 'failed', reason = $3, updated_at = now()
     WHERE run_id = $1 AND status = 'pending' AND store_path_id IN (SELECT id FROM store_paths WHERE path = ANY($2::text[]))`,
    [runId, paths, reason],
  );
}

export async function setRunTotal(db: Queryable, runId: number, total: number): Promise<void> {
  await db.query('UPDATE runs SET total = $2 WHERE id = $1', [runId, total]);
}

/** The stored scan of this NAR under this ruleset, if any: an unchanged NAR is linked, not downloaded. */
export async function findNarScan(db: Queryable, narHash: string, rulesetDigest: string): Promise<number | null> {
  return (await findNarScans(db, [narHash], rulesetDigest)).get(narHash) ?? null;
}

/** findNarScan for many NARs in one query: NarHash → stored scan. */
export async function findNarScans(db: Queryable, narHashes: string[], rulesetDigest: string): Promise<Map<string, number>> {
  if (narHashes.length === 0) return new Map();
  const { rows } = await db.query<{ nar_hash: string; id: string }>('SELECT nar_hash, id FROM nar_scans WHERE ruleset_digest = $1 AND nar_hash = ANY($2::text[])', [
    rulesetDigest,
    narHashes,
  ]);
  return new Map(rows.map((r) => [r.nar_hash, Number(r.id)]));
}

/** A path's outcome as recorded: linked to an earlier scan, not in cache, failed, or newly scanned. */
type RecordedResult = PathResult & { linkedNarScan?: number };

function isNewScan(result: RecordedResult): boolean {
  return result.status === 'scanned' && result.narHash !== undefined && result.linkedNarScan === undefined;
}

/**
 * Sets the outcome of several paths in a run in one statement, by path. Returns the paths it set:
 * a path missing from the answer is not a registered store path.
 */
async function upsertRunPaths(db: Queryable, runId: number, results: { result: RecordedResult; narScanId: number | null }[]): Promise<Set<string>> {
  const { rows } = await db.query<{ path: string }>(
    `WITH t AS (
       SELECT sp.id, sp.path, t.status, t.reason, t.nar_scan_id, t.downloaded, t.nar, t.retries
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[]) AS t(path, status, reason, nar_scan_id, downloaded, nar, retries)
       JOIN store_paths sp ON sp.path = t.path
     ), written AS (
       INSERT INTO run_paths (run_id, store_path_id, status, reason, nar_scan_id, downloaded_bytes, nar_bytes, retries, updated_at)
       SELECT $1, id, status, reason, nar_scan_id, downloaded, nar, retries, now() FROM t
       ON CONFLICT (run_id, store_path_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
         nar_scan_id = EXCLUDED.nar_scan_id, downloaded_bytes = EXCLUDED.downloaded_bytes, nar_bytes = EXCLUDED.nar_bytes,
         retries = run_paths.retries + EXCLUDED.retries, updated_at = now()
       -- A retried job (after kill -9) finds the NAR it scanned itself and links it: the path stays 'scanned'.
       WHERE run_paths.status <> 'scanned' OR EXCLUDED.status = 'scanned'
       RETURNING store_path_id
     )
     SELECT t.path FROM t JOIN written w ON w.store_path_id = t.id`,
    [
      runId,
      results.map((r) => r.result.storePath),
      results.map((r): RunPathStatus => (r.result.linkedNarScan !== undefined ? 'skipped-unchanged' : r.result.status)),
      results.map((r) => r.result.reason ?? null),
      results.map((r) => r.narScanId),
      results.map((r) => r.result.downloadedBytes),
      results.map((r) => r.result.narBytes),
      results.map((r) => r.result.retries ?? 0),
    ],
  );
  return new Set(rows.map((r) => r.path));
}

/**
 * Records one store path's outcome in a run. Safe to repeat. A path with no new scan to store
 * (linked, not in cache, failed) takes one statement when its store path is registered, as every
 * queued run's are.
 */
export async function recordPathResult(db: Database, runId: number, rulesetDigest: string, result: RecordedResult): Promise<void> {
  if (isNewScan(result)) return recordWithStorePath(db, runId, rulesetDigest, result);
  return recordSettledResults(db, runId, [result]);
}

/**
 * Records the outcomes of paths with no new scan to store, in one statement for all registered
 * store paths: a re-run links a whole batch of unchanged paths at once.
 */
export async function recordSettledResults(db: Database, runId: number, results: RecordedResult[]): Promise<void> {
  const unique = [...new Map(results.map((r) => [r.storePath, r])).values()];
  if (unique.length === 0) return;
  if (unique.some(isNewScan)) throw new Error('a newly scanned path is recorded with recordPathResult, with its findings');
  const set = await upsertRunPaths(db, runId, unique.map((result) => ({ result, narScanId: result.linkedNarScan ?? null })));
  for (const result of unique) if (!set.has(result.storePath)) await recordWithStorePath(db, runId, '', result);
}

/** Registers the store path, stores its new scan and findings if it has one, and sets the outcome. */
async function recordWithStorePath(db: Database, runId: number, rulesetDigest: string, result: RecordedResult): Promise<void> {
  let storePath: StorePath;
  try {
    storePath = parseStorePath(result.storePath);
  } catch {
    return; // not a store path: reported in the run's summary, nothing to key it by
  }
  await db.transaction(async (tx) => {
    await registerStorePaths(tx, [storePath]);
    let narScanId: number | null = result.linkedNarScan ?? null;
    if (isNewScan(result)) {
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO nar_scans (nar_hash, ruleset_digest, nar_size, files, warnings) VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (nar_hash, ruleset_digest) DO UPDATE SET nar_hash = EXCLUDED.nar_hash RETURNING id`,
        [result.narHash, rulesetDigest, result.narSize ?? result.narBytes, result.files, JSON.stringify(result.warnings ?? [])],
      );
      narScanId = Number(inserted.rows[0]?.id);
      if (result.findings.length > 0) await insertFindings(tx, narScanId, result.findings);
    }
    await upsertRunPaths(tx, runId, [{ result: { ...result, storePath: storePath.path }, narScanId }]);
  });
}

/** All findings of a NAR scan in one statement (idempotent: keyed by scan, file, library, rule). */
async function insertFindings(tx: Queryable, narScanId: number, findings: FileFinding[]): Promise<void> {
  const rows = findings.map((f) => {
    const parsed = f.version === null ? null : parseVersion(f.version);
    return {
      file: f.file,
      library: f.library,
      version: parsed ? f.version : null,
      version_raw: parsed ? f.versionRaw : (f.versionRaw ?? f.version),
      version_key: parsed ? versionSortKey(parsed) : null,
      rule: f.rule,
      confidence: f.confidence,
      evidence: f.evidence,
      linkage: f.linkage,
      linkage_reason: f.linkageReason,
      matches: f.matches,
    };
  });
  await tx.query(
    `INSERT INTO findings (nar_scan_id, file, library, version, version_raw, version_key, rule, confidence, evidence, linkage, linkage_reason, matches)
     SELECT $1, r.file, r.library, r.version, r.version_raw, r.version_key, r.rule, r.confidence, r.evidence, r.linkage, r.linkage_reason, r.matches
     FROM jsonb_to_recordset($2::jsonb) AS r(file text, library text, version text, version_raw text, version_key text, rule text, confidence text, evidence text, linkage text, linkage_reason text, matches jsonb)
     ON CONFLICT DO NOTHING`,
    [narScanId, JSON.stringify(rows)],
  );
}

/**
 * Closes the run once the whole source was read (total is set only after every path of the source
 * is registered) and no path is pending. Cheap: called after every path. Returns true if it closed.
 */
export async function completeRunIfSettled(db: Queryable, runId: number): Promise<boolean> {
  // A run in which no store path could be scanned (every one failed or was not in the cache, or
  // the source was empty) ends failed, with the reason: it must never answer "nobody vendors it".
  const { rows } = await db.query<{ id: string; state: string }>(
    `WITH counts AS (
       SELECT count(*) FILTER (WHERE status IN ('scanned', 'skipped-unchanged')) AS usable,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              count(*) FILTER (WHERE status = 'not-in-cache') AS absent
       FROM run_paths WHERE run_id = $1
     )
     UPDATE runs SET finished_at = now(),
       state = CASE WHEN (SELECT usable FROM counts) > 0 THEN 'completed' ELSE 'failed' END,
       error = CASE WHEN (SELECT usable FROM counts) > 0 THEN error
         ELSE format('no store path could be scanned: %s failed, %s not in the cache, of %s', (SELECT failed FROM counts), (SELECT absent FROM counts), total) END
     WHERE id = $1 AND state = 'running' AND total IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM run_paths WHERE run_id = $1 AND status = 'pending')
     RETURNING id, state`,
    [runId],
  );
  // Its libraries are counted now, once, so that no question about them counts a million findings.
  if (rows[0]?.state === 'completed') await storeLibraryCounts(db, runId);
  return rows.length > 0;
}

function toRun(r: Record<string, unknown>): RunRow {
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return {
    id: Number(r['id']),
    kind: (r['kind'] as RunKind | undefined) ?? 'library-scan',
    channelRevision: (r['channel_revision'] as string | null) ?? null,
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
       COALESCE(sum(rp.retries), 0) AS retries,
       count(*) FILTER (WHERE rp.attempts > 1) AS reattempted,
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
    retries: Number(r['retries']),
    reattempted: Number(r['reattempted']),
  };
}

export async function listRuns(db: Queryable, limit = 50): Promise<RunRow[]> {
  const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM runs ORDER BY id DESC LIMIT $1', [limit]);
  return rows.map(toRun);
}


/** A job takes these paths up (again): counted per path, so a path taken up twice shows its job was lost or failed once. */
export async function markPathsAttempted(db: Queryable, runId: number, storePaths: string[]): Promise<void> {
  if (storePaths.length === 0) return;
  // The batch's ids first, then each row by primary key. Joined the other way (PGlite's planner,
  // with no statistics on a new run's rows, chose it) every call walked all the run's pending rows
  // (the bench's embedded re-run of 2001 unchanged paths: 486 → 722 paths/s).
  await db.query(
    `WITH batch AS MATERIALIZED (SELECT id FROM store_paths WHERE path = ANY($2::text[]))
     UPDATE run_paths rp SET attempts = rp.attempts + 1 FROM batch
     WHERE rp.run_id = $1 AND rp.store_path_id = batch.id AND rp.status = 'pending'`,
    [runId, storePaths],
  );
}

export async function runFailures(db: Queryable, runId: number, limit = 1000): Promise<{ storePath: string; status: RunPathStatus; reason: string | null }[]> {
  const { rows } = await db.query<{ path: string; status: RunPathStatus; reason: string | null }>(
    "SELECT sp.path, rp.status, rp.reason FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1 AND rp.status IN ('failed', 'not-in-cache') ORDER BY sp.path LIMIT $2",
    [runId, limit],
  );
  return rows.map((r) => ({ storePath: r.path, status: r.status, reason: r.reason }));
}

/**
 * Up to this many NAR scans with warnings in the whole store, runWarnings looks the run's warned
 * paths up by scan; past it, it reads the run's paths in path order, as it always did. The ids are
 * read on every poll: a 10-path run's poll in a store with 2,000 of them took 5-22 ms on
 * PostgreSQL and 46-68 ms on PGlite (~1-3 ms the old way).
 */
const WARNED_SCANS_BY_ID = 2_000;

/** Store paths of a run whose scan left per-file warnings (archives not wholly read), by path. */
export async function runWarnings(db: Queryable, runId: number, limit = 1000, byIdUpTo = WARNED_SCANS_BY_ID): Promise<{ storePath: string; warnings: string[] }[]> {
  // Scans with warnings are few (an archive not wholly read), and this is polled by the dashboard:
  // they are found first, in id order so that migration 011's partial index answers whatever the
  // statistics, then the run's paths that link one. As one join the planner guessed a third of
  // all scans had warnings and read every path of the run (100,000 paths, 100 warned: 0.47-0.57 s
  // per poll on PostgreSQL with statistics; this way 7-11 ms). The fallback keeps its old filter:
  // with the index's `<> '[]'` PGlite (no statistics) planned it 4-10x slower.
  const warned = await db.query<{ id: string }>("SELECT id FROM nar_scans WHERE warnings <> '[]'::jsonb ORDER BY id LIMIT $1", [byIdUpTo + 1]);
  if (warned.rows.length === 0) return [];
  const byId = warned.rows.length <= byIdUpTo;
  const { rows } = await db.query<{ path: string; warnings: string[] | string }>(
    `SELECT sp.path, ns.warnings FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN nar_scans ns ON ns.id = rp.nar_scan_id
     WHERE rp.run_id = $1 AND ${byId ? 'rp.nar_scan_id = ANY($3::bigint[])' : 'jsonb_array_length(ns.warnings) > 0'} ORDER BY sp.path LIMIT $2`,
    byId ? [runId, limit, warned.rows.map((r) => r.id)] : [runId, limit],
  );
  return rows.map((r) => ({ storePath: r.path, warnings: typeof r.warnings === 'string' ? (JSON.parse(r.warnings) as string[]) : r.warnings }));
}

/** The per-file warnings of a stored NAR scan (a linked path reports them as its own). */
export async function narScanWarnings(db: Queryable, narScanId: number): Promise<string[]> {
  const { rows } = await db.query<{ warnings: string[] | string }>('SELECT warnings FROM nar_scans WHERE id = $1', [narScanId]);
  const w = rows[0]?.warnings ?? [];
  return typeof w === 'string' ? (JSON.parse(w) as string[]) : w;
}

/** The findings of a stored NAR scan, as the scanner reports them for `storePath`. */
export async function narScanFindings(db: Queryable, narScanId: number, storePath: string): Promise<FileFinding[]> {
  const { pname } = parseStorePath(storePath);
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT file, library, version, version_raw, rule, confidence, evidence, linkage, linkage_reason, matches FROM findings WHERE nar_scan_id = $1 ORDER BY file, library, rule',
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
    linkage: r['linkage'] as FileFinding['linkage'],
    linkageReason: String(r['linkage_reason']),
    matches: (typeof r['matches'] === 'string' ? JSON.parse(r['matches']) : r['matches']) as FileFinding['matches'],
  }));
}

export interface RunDefinition {
  source: { kind: string; channel?: string };
  cacheUrl: string;
  digest: string;
}

/** What a run scans, from where, with which ruleset (null when there is no such run). */
export async function runDefinition(db: Queryable, runId: number): Promise<RunDefinition | null> {
  const { rows } = await db.query<{ source: unknown; cache_url: string; ruleset_digest: string }>('SELECT source, cache_url, ruleset_digest FROM runs WHERE id = $1', [runId]);
  const r = rows[0];
  if (!r) return null;
  const source = (typeof r.source === 'string' ? JSON.parse(r.source) : r.source) as RunDefinition['source'];
  return { source, cacheUrl: r.cache_url, digest: r.ruleset_digest };
}

/** A run's pending store paths in path order, so a retried plan makes the same batches (the same job ids). */
export async function pendingRunPaths(db: Queryable, runId: number): Promise<string[]> {
  const { rows } = await db.query<{ path: string }>(
    "SELECT sp.path FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id WHERE rp.run_id = $1 AND rp.status = 'pending' ORDER BY sp.path",
    [runId],
  );
  return rows.map((r) => r.path);
}
