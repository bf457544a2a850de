// Ad-hoc (emergency) searches: a YARA rule, needle or hex pattern over a run's store paths or a
// path list, with their matches. Writes are idempotent like a run's.
import type { Database, Queryable } from './database.ts';
import type { PathResult } from '../scanner/path-result.ts';
import { parseStorePath } from '../nix/store-path.ts';
import { forRegisteredBatches, parseStorePaths } from './store-paths.ts';

export type SearchKind = 'yara' | 'needle' | 'hex';
export type SearchScope = { runId: number } | { paths: string[] };

export interface SearchRow {
  id: number;
  kind: SearchKind;
  pattern: string;
  scope: { runId?: number; paths?: number };
  cacheUrl: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  total: number | null;
  scanned: number;
  notInCache: number;
  failed: number;
  pending: number;
  matches: number;
  createdAt: string;
  firstMatchAt: string | null;
  finishedAt: string | null;
}

export interface SearchMatchRow {
  storePath: string;
  file: string;
  rule: string;
  matches: unknown;
}

/** Creates the search and registers its store paths; returns the id. */
export async function createSearch(db: Database, search: { kind: SearchKind; pattern: string; scope: SearchScope; cacheUrl: string }): Promise<number> {
  return db.transaction(async (tx) => {
    const scopeJson = 'runId' in search.scope ? { runId: search.scope.runId } : { paths: search.scope.paths.length };
    const { rows } = await tx.query<{ id: string }>('INSERT INTO searches (kind, pattern, scope, cache_url) VALUES ($1, $2, $3, $4) RETURNING id', [
      search.kind,
      search.pattern,
      JSON.stringify(scopeJson),
      search.cacheUrl,
    ]);
    const id = Number(rows[0]?.id);
    if ('runId' in search.scope) {
      await tx.query("INSERT INTO search_paths (search_id, store_path_id, status) SELECT $1, store_path_id, 'pending' FROM run_paths WHERE run_id = $2 ON CONFLICT DO NOTHING", [id, search.scope.runId]);
    } else {
      const { valid, invalid } = parseStorePaths(search.scope.paths);
      // The API checks every path first; this names the first bad one if a caller did not.
      if (invalid.length > 0) parseStorePath(invalid[0] ?? '');
      await forRegisteredBatches(tx, valid, async (batch) => {
        await tx.query("INSERT INTO search_paths (search_id, store_path_id, status) SELECT $1, id, 'pending' FROM store_paths WHERE path = ANY($2::text[]) ON CONFLICT DO NOTHING", [id, batch]);
      });
    }
    await tx.query("UPDATE searches SET total = (SELECT count(*) FROM search_paths WHERE search_id = $1), state = 'running' WHERE id = $1", [id]);
    return id;
  });
}

export async function pendingSearchPaths(db: Queryable, searchId: number): Promise<string[]> {
  const { rows } = await db.query<{ path: string }>("SELECT sp.path FROM search_paths x JOIN store_paths sp ON sp.id = x.store_path_id WHERE x.search_id = $1 AND x.status = 'pending' ORDER BY sp.path", [searchId]);
  return rows.map((r) => r.path);
}

export async function recordSearchResult(db: Database, searchId: number, result: PathResult): Promise<void> {
  await db.transaction(async (tx) => {
    const sp = await tx.query<{ id: string }>('SELECT id FROM store_paths WHERE path = $1', [result.storePath]);
    const id = sp.rows[0] ? Number(sp.rows[0].id) : null;
    if (id === null) return;
    for (const f of result.findings) {
      await tx.query('INSERT INTO search_matches (search_id, store_path_id, file, rule, matches) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        searchId,
        id,
        f.file,
        f.rule,
        JSON.stringify(f.matches),
      ]);
    }
    if (result.findings.length > 0) await tx.query('UPDATE searches SET first_match_at = COALESCE(first_match_at, now()) WHERE id = $1', [searchId]);
    await tx.query('UPDATE search_paths SET status = $3, reason = $4 WHERE search_id = $1 AND store_path_id = $2', [searchId, id, result.status, result.reason ?? null]);
  });
  await completeSearchIfSettled(db, searchId);
}

/** A job gave up on these paths: mark those still pending as failed, and close the search if nothing is left. */
export async function failPendingSearchPaths(db: Database, searchId: number, paths: string[], reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE search_paths SET status = 'failed', reason = $3
       WHERE search_id = $1 AND status = 'pending' AND store_path_id IN (SELECT id FROM store_paths WHERE path = ANY($2::text[]))`,
      [searchId, paths, reason],
    );
  });
  await completeSearchIfSettled(db, searchId);
}

/** A search that could not be planned. */
export async function markSearchFailed(db: Queryable, searchId: number): Promise<void> {
  await db.query("UPDATE searches SET state = 'failed', finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')", [searchId]);
}

/**
 * Closes the search when no path is pending. Called after the settling transaction has committed,
 * never inside it: two paths settled in concurrent transactions would each see the other still
 * pending (READ COMMITTED) and neither would close the search. After commit, the last of them to
 * check sees every path settled; the state guard makes a second closing a no-op.
 */
async function completeSearchIfSettled(db: Queryable, searchId: number): Promise<void> {
  await db.query(
    "UPDATE searches SET state = 'completed', finished_at = now() WHERE id = $1 AND state = 'running' AND NOT EXISTS (SELECT 1 FROM search_paths WHERE search_id = $1 AND status = 'pending')",
    [searchId],
  );
}

export async function searchProgress(db: Queryable, searchId: number): Promise<SearchRow | null> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT s.*,
       (SELECT count(*) FROM search_paths WHERE search_id = s.id AND status = 'scanned') AS scanned,
       (SELECT count(*) FROM search_paths WHERE search_id = s.id AND status = 'not-in-cache') AS not_in_cache,
       (SELECT count(*) FROM search_paths WHERE search_id = s.id AND status = 'failed') AS failed,
       (SELECT count(*) FROM search_paths WHERE search_id = s.id AND status = 'pending') AS pending,
       (SELECT count(*) FROM search_matches WHERE search_id = s.id) AS matches
     FROM searches s WHERE s.id = $1`,
    [searchId],
  );
  const r = rows[0];
  if (!r) return null;
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return {
    id: Number(r['id']),
    kind: r['kind'] as SearchKind,
    pattern: String(r['pattern']),
    scope: (typeof r['scope'] === 'string' ? JSON.parse(r['scope']) : r['scope']) as SearchRow['scope'],
    cacheUrl: String(r['cache_url']),
    state: r['state'] as SearchRow['state'],
    total: r['total'] === null ? null : Number(r['total']),
    scanned: Number(r['scanned']),
    notInCache: Number(r['not_in_cache']),
    failed: Number(r['failed']),
    pending: Number(r['pending']),
    matches: Number(r['matches']),
    createdAt: iso(r['created_at']) ?? '',
    firstMatchAt: iso(r['first_match_at']),
    finishedAt: iso(r['finished_at']),
  };
}

export async function searchMatches(db: Queryable, searchId: number, limit = 1000, offset = 0): Promise<SearchMatchRow[]> {
  const { rows } = await db.query<{ path: string; file: string; rule: string; matches: unknown }>(
    'SELECT sp.path, m.file, m.rule, m.matches FROM search_matches m JOIN store_paths sp ON sp.id = m.store_path_id WHERE m.search_id = $1 ORDER BY sp.path, m.file, m.rule LIMIT $2 OFFSET $3',
    [searchId, limit, offset],
  );
  return rows.map((r) => ({ storePath: r.path, file: r.file, rule: r.rule, matches: typeof r.matches === 'string' ? JSON.parse(r.matches) : r.matches }));
}

/** The latest searches, newest first, with their progress. */
export async function listSearches(db: Queryable, limit = 20): Promise<SearchRow[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM searches ORDER BY id DESC LIMIT $1', [limit]);
  const out: SearchRow[] = [];
  for (const r of rows) {
    const s = await searchProgress(db, Number(r.id));
    if (s) out.push(s);
  }
  return out;
}
