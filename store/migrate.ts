// Applies migrations/*.sql in order, each in a transaction, recorded with its checksum. A file
// changed after it was applied is refused. Concurrent starts serialise on an advisory lock.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database, type DatabaseOptions, type Queryable } from './database.ts';
import { LIBRARY_PACKAGES } from '../signatures/vendored.ts';
import { parseVersion, versionSortKey, VERSION_KEY_FORMAT } from '../signatures/version.ts';
import { VendorscanError } from '../errors/errors.ts';
import { markAllInterrupted } from './interrupted.ts';
import { seedFromTemplate } from './template.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');
const LOCK = 7_461_002_815;

export class MigrationError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_MIGRATION', 'config', message, options);
  }
}

/** The migration files in order, with the checksum each is recorded under. */
function migrationFiles(dir: string): { file: string; sql: string; checksum: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return { file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

function libraryPackagePairs(): string[] {
  return Object.entries(LIBRARY_PACKAGES)
    .flatMap(([library, pnames]) => pnames.map((pname) => `${library}\0${pname}`))
    .sort();
}

/**
 * Whether the store is already what migrate() would make it: every file applied with the same
 * checksum, version keys in the current format, library_packages equal to the scanner's list. Two
 * reads and no transaction, so a command on an up-to-date store starts without the advisory lock
 * and the rewrite of library_packages (tens of ms on PostgreSQL, more on PGlite).
 */
async function upToDate(db: Queryable, files: { file: string; checksum: string }[], keyFormat: string): Promise<boolean> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return false;
  const done = (await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations')).rows;
  const recorded = new Map(done.map((r) => [r.name, r.checksum]));
  if (!recorded.has(keyFormat) || !files.every((f) => recorded.get(f.file) === f.checksum)) return false;
  const pairs = (await db.query<{ library: string; pname: string }>('SELECT library, pname FROM library_packages')).rows.map((r) => `${r.library}\0${r.pname}`).sort();
  const want = libraryPackagePairs();
  return pairs.length === want.length && pairs.every((p, i) => p === want[i]);
}

export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = migrationFiles(dir);
  if (files.length === 0) throw new MigrationError(`no migrations in ${dir}`);
  const keyFormat = `version_key_format/${VERSION_KEY_FORMAT}`;
  if (await upToDate(db, files, keyFormat).catch(() => false)) return [];
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Map((await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations')).rows.map((r) => [r.name, r.checksum]));
    for (const { file, sql, checksum } of files) {
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new MigrationError(`migration ${file} was changed after it was applied (checksum ${previous.slice(0, 12)} → ${checksum.slice(0, 12)}); add a new migration instead`);
        continue;
      }
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file, checksum]);
      applied.push(file);
    }
    await syncLibraryPackages(tx);
    // Stored library counts depend on the libraries' own packages and the version keys' order:
    // whatever changed here, they are counted again at the next question.
    await tx.exec('DELETE FROM run_library_counts; UPDATE runs SET libraries_counted = false WHERE libraries_counted;');
    if (!done.has(keyFormat)) {
      await recomputeVersionKeys(tx);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [keyFormat, 'computed']);
      applied.push(keyFormat);
    }
  });
  return applied;
}

/** Keeps library_packages equal to the list the scanner uses (signatures/vendored.ts). */
/** Inside migrate's transaction, so concurrent start-ups serialise on its lock. */
async function syncLibraryPackages(tx: Queryable): Promise<void> {
  const pairs = Object.entries(LIBRARY_PACKAGES).flatMap(([library, pnames]) => pnames.map((pname) => [library, pname] as const));
  await tx.query('DELETE FROM library_packages');
  for (const [library, pname] of pairs) await tx.query('INSERT INTO library_packages (library, pname) VALUES ($1, $2)', [library, pname]);
}

export interface StoreLocation {
  databaseUrl: string | null;
  dataDir: string;
  /** Where empty migrated embedded stores are kept to copy from (store/template.ts); null or absent: none, initdb every time. */
  storeTemplateDir?: string | null;
}

/** PostgreSQL at `databaseUrl`, else PGlite's files in `dataDir`/pgdata (a new one copied from the template when there is one). */
export function databaseOptions(where: StoreLocation): DatabaseOptions {
  if (where.databaseUrl) return { url: where.databaseUrl };
  const root = where.storeTemplateDir;
  const seed = root
    ? (pgdata: string) =>
        seedFromTemplate(pgdata, root, schemaIdentity(), async (dir) => {
          const db = await openDatabase({ dataDir: dir });
          try {
            await migrate(db);
          } finally {
            await db.close();
          }
        })
    : undefined;
  return { dataDir: path.join(where.dataDir, 'pgdata'), ...(seed ? { seed } : {}) };
}

/** Everything migrate() writes into an empty store, as one string: the template's key. */
function schemaIdentity(dir = MIGRATIONS_DIR): string {
  return [...migrationFiles(dir).map((f) => `${f.file} ${f.checksum}`), `version_key_format/${VERSION_KEY_FORMAT}`, ...libraryPackagePairs()].join('\n');
}

/** The results store a command uses: PostgreSQL at `databaseUrl`, else embedded PGlite under `dataDir`, migrated. */
export async function openResultsStore(where: StoreLocation): Promise<Database> {
  const db = await openDatabase(databaseOptions(where));
  try {
    await migrate(db);
    // Embedded: this process holds the data dir alone, so anything still running was left by one that died.
    if (db.kind === 'pglite') await markAllInterrupted(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * findings.version_key is computed here, not in SQL (signatures/version.ts). When its format
 * changes, every stored key is rewritten in batches, inside the migration's transaction, so range
 * queries over old runs agree with the new order.
 */
async function recomputeVersionKeys(tx: Queryable): Promise<void> {
  const BATCH = 10_000;
  let after = 0;
  for (;;) {
    const { rows } = await tx.query<{ id: string; version: string }>('SELECT id, version FROM findings WHERE version IS NOT NULL AND id > $1 ORDER BY id LIMIT $2', [after, BATCH]);
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id);
    const keys = rows.map((r) => {
      const v = parseVersion(r.version);
      return v ? versionSortKey(v) : null;
    });
    await tx.query('UPDATE findings f SET version_key = k.key FROM unnest($1::bigint[], $2::text[]) AS k(id, key) WHERE f.id = k.id', [ids, keys]);
    after = Number(rows[rows.length - 1]?.id);
  }
}
