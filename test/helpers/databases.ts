// Fresh databases for tests: a new database on the machine's PostgreSQL (dropped afterwards), or
// embedded PGlite in a temporary folder. The same suites run on both.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database, type Queryable } from '../../store/database.ts';

export const POSTGRES_ADMIN_URL = process.env['VENDORSCAN_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** DATABASE_URL for child processes, or VENDORSCAN_DATA_DIR for PGlite. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function freshPostgres(): Promise<TestDatabase> {
  const name = `vendorscan_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.href });
  return {
    db,
    env: { DATABASE_URL: url.href },
    drop: async () => {
      await db.close();
      const a = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function freshPGlite(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-pglite-'));
  const db = await openDatabase({ dataDir: path.join(dataDir, 'pgdata') });
  return { db, env: { VENDORSCAN_DATA_DIR: dataDir }, drop: () => db.close() };
}

/** A run's stored findings as `path|file|library|version` keys, one per row (duplicates kept, so a test can count them). */
export async function runFindingKeys(db: Queryable, runId: number): Promise<string[]> {
  const { rows } = await db.query<{ path: string; file: string; library: string; version: string | null }>(
    'SELECT sp.path, f.file, f.library, f.version FROM run_paths rp JOIN store_paths sp ON sp.id = rp.store_path_id JOIN findings f ON f.nar_scan_id = rp.nar_scan_id WHERE rp.run_id = $1',
    [runId],
  );
  return rows.map((r) => `${r.path}|${r.file}|${r.library}|${r.version}`);
}
