// One interface over PostgreSQL (pg, when DATABASE_URL is set) and embedded Postgres (PGlite in
// VENDORSCAN_DATA_DIR) so the same migrations and queries run on a laptop and in production.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';

export interface Queryable {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface Transaction extends Queryable {
  /** Runs several statements (no parameters), inside the transaction. */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** PGlite: the previous process on this data dir died holding it (its runs were interrupted). */
  readonly recoveredFromCrash?: boolean;
  /** Runs several statements (no parameters). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; null or absent: embedded PGlite in dataDir. */
  url?: string | null;
  /** PGlite's folder (required without url). */
  dataDir?: string;
  /** PGlite: fills the folder when it holds no cluster yet (store/template.ts), under the data dir's lock. */
  seed?: (dataDir: string) => Promise<'copied' | 'built' | 'failed'>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url);
  if (!options.dataDir) throw new Error('openDatabase: give a PostgreSQL url or a dataDir for the embedded store');
  return openPGlite(options.dataDir, options.seed);
}

async function openPostgres(url: string): Promise<Database> {
  const pg = await import('pg');
  const pool = new pg.default.Pool({ connectionString: url, max: 8 });
  // A dropped connection is reported to the query that used it; an idle one must not crash us.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params: unknown[] = []) => ({ rows: (await pool.query(sql, params)).rows as T[] }),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      // pg-pool listens for errors only on idle clients: a backend terminated while this client is
      // checked out would otherwise emit an unhandled 'error' and kill the process. The failed
      // query reports it; the client is then destroyed instead of going back to the pool.
      let broken: Error | undefined;
      const onError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <T>(sql: string, params: unknown[] = []) => ({ rows: (await client.query(sql, params)).rows as T[] }),
          exec: async (sql: string) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken ??= e instanceof Error ? e : new Error(String(e));
        });
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

const PGLITE_SHARED_BUFFERS = '32MB';

async function openPGlite(dataDir: string, seed: DatabaseOptions['seed']): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  // Before PGlite touches the files: a second process must fail here, not corrupt them.
  const lock = lockDataDir(dataDir);
  let seeded = false;
  if (seed && !existsSync(path.join(dataDir, 'PG_VERSION'))) {
    try {
      seeded = (await seed(dataDir)) !== 'failed';
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  // PGlite's default shared_buffers (160 MB of WebAssembly memory, touched as pages are used) made
  // up half of a short command's peak RSS; the data files stay in the OS page cache anyway.
  const create = () => PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] });
  const db = await create()
    .catch((err: unknown) => {
      if (!seeded) throw err;
      // A copy of a damaged template: start again from initdb; the new folder held nothing else.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
      return create();
    })
    .catch((err: unknown) => {
      lock.release();
      throw err;
    });
  return {
    kind: 'pglite',
    recoveredFromCrash: lock.tookOverStale,
    query: async <T>(sql: string, params: unknown[] = []) => ({ rows: (await db.query<T>(sql, params)).rows }),
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async <T>(sql: string, params: unknown[] = []) => ({ rows: (await tx.query<T>(sql, params)).rows }),
          exec: async (sql: string) => {
            await tx.exec(sql);
          },
        }),
      ),
    close: async () => {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}
