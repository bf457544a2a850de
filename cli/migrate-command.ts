// `vendorscan migrate`: apply the schema to the results store.
import { openDatabase } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { describeStore } from './open-store.ts';

export async function migrateCommand(_argv: string[], io: { stdout: NodeJS.WritableStream; env: NodeJS.ProcessEnv }): Promise<number> {
  const db = await openDatabase({}, io.env);
  try {
    const applied = await migrate(db);
    io.stdout.write(applied.length ? `Applied ${applied.join(', ')} to ${describeStore(io.env)}.\n` : `${describeStore(io.env)} is up to date.\n`);
    return 0;
  } finally {
    await db.close();
  }
}
