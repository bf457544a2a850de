// Searches always finish: 50 searches over 20 store paths, settled concurrently by two "workers"
// (two connection pools to the real PostgreSQL, as two worker hosts have), all end completed
// with the right match counts. Before the fix, a search whose last two paths were settled in
// concurrent transactions stayed "running" with nothing pending: each saw the other pending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import { registerStorePaths, parseStorePaths } from '../../store/store-paths.ts';
import { createSearch, recordSearchResult, searchProgress } from '../../store/searches.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';

let t: TestDatabase;
let workers: Database[] = [];
const paths = Array.from({ length: 20 }, (_, i) => `/nix/store/${String(i).padStart(2, '0').padEnd(32, 'a')}-app${i}-1.0`);

beforeAll(async () => {
  t = await freshPostgres();
  await migrate(t.db);
  await t.db.transaction((tx) => registerStorePaths(tx, parseStorePaths(paths).valid));
  workers = [await openDatabase({ url: t.env['DATABASE_URL'] ?? '' }), await openDatabase({ url: t.env['DATABASE_URL'] ?? '' })];
}, 60_000);
afterAll(async () => {
  for (const w of workers) await w.close();
  await t?.drop();
});

function result(storePath: string, matches: number): PathResult {
  return {
    storePath,
    status: 'scanned',
    downloadedBytes: 1,
    narBytes: 1,
    files: 1,
    durationMs: 1,
    findings: Array.from({ length: matches }, (_, k) => ({
      storePath,
      file: `share/f${k}`,
      library: 'adhoc',
      version: null,
      versionRaw: null,
      rule: 'needle_1',
      confidence: 'high' as const,
      evidence: 'needle',
      vendored: true,
      linkage: 'unknown' as const,
      linkageReason: 'ad-hoc search: linkage is not checked',
      matches: [],
    })),
  };
}

describe('50 searches over 20 paths, two workers at once', () => {
  it('all complete, with the right match counts', async () => {
    const ids: number[] = [];
    for (let s = 0; s < 50; s++) ids.push(await createSearch(t.db, { kind: 'needle', pattern: `needle ${s}`, scope: { paths }, cacheUrl: 'file:///cache' }));
    // Every (search, path) settled once, spread over the two workers: all but the last two paths
    // of each search first, many transactions in flight; then each search's last two paths at the
    // same moment, one on each worker, as two workers finishing the last jobs of a search do.
    const jobs = ids.flatMap((id, s) => paths.slice(0, -2).map((p, i) => ({ id, p, matches: (s + i) % 3 === 0 ? 1 : 0 })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, lane) => {
        const db = workers[lane % 2] as Database;
        while (next < jobs.length) {
          const job = jobs[next++];
          if (job) await recordSearchResult(db, job.id, result(job.p, job.matches));
        }
      }),
    );
    await Promise.all(
      ids.map((id, s) =>
        Promise.all(
          paths.slice(-2).map((p, k) => {
            const i = paths.length - 2 + k;
            return recordSearchResult(workers[k] as Database, id, result(p, (s + i) % 3 === 0 ? 1 : 0));
          }),
        ),
      ),
    );
    for (const [s, id] of ids.entries()) {
      const progress = await searchProgress(t.db, id);
      const expected = paths.filter((_, i) => (s + i) % 3 === 0).length;
      expect([id, progress?.state, progress?.pending, progress?.matches]).toEqual([id, 'completed', 0, expected]);
    }
  }, 120_000);
});
