// The results store for a command: PostgreSQL when DATABASE_URL is set, else embedded PGlite in
// VENDORSCAN_DATA_DIR (default ./.vendorscan), migrated before use.
import { openDatabase, defaultDataDir, type Database } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';

export async function openStore(env: NodeJS.ProcessEnv): Promise<Database> {
  const db = await openDatabase({}, env);
  await migrate(db);
  return db;
}

export function describeStore(env: NodeJS.ProcessEnv): string {
  return env['DATABASE_URL'] ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${defaultDataDir(env)}`;
}
