// `vendorscan migrate`: apply migrations/ to the results store (every command also does at start-up).
import { openDatabase } from '../store/database.ts';
import { databaseOptions, migrate } from '../store/migrate.ts';
import { describeStore, loadConfig } from '../services/config.ts';
import { parseFlags, type Command } from './flags.ts';

const usage = `Usage: vendorscan migrate

  Applies migrations/*.sql to the results store: PostgreSQL at DATABASE_URL, else the embedded
  store in VENDORSCAN_DATA_DIR (default ./.vendorscan). Applied files are recorded with their
  checksum; one changed after it was applied is refused.
`;

export const command: Command = {
  usage,
  async run(argv, io) {
    const v = parseFlags(argv, { help: { type: 'boolean', short: 'h' } });
    if (v.help) {
      io.stdout.write(usage);
      return 0;
    }
    const config = loadConfig(io.env);
    const db = await openDatabase(databaseOptions(config));
    try {
      const applied = await migrate(db);
      io.stdout.write(applied.length ? `Applied ${applied.join(', ')} to ${describeStore(config)}.\n` : `${describeStore(config)} is up to date.\n`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
