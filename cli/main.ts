// The `vendorscan` command line.
import { scanCommand, scanUsage } from './scan-command.ts';
import { UsageError } from './usage-error.ts';
import { queryCommand, queryUsage } from './query-command.ts';
import { migrateCommand } from './migrate-command.ts';
import { serveCommand, serveUsage, workerCommand, schedulerCommand } from './service-commands.ts';

const usage = `Usage: vendorscan <command> [options]

Commands:
  scan       scan store paths of a binary cache for vendored libraries (vendorscan scan --help)
  query      who vendors a library at which versions (vendorscan query --help)
  migrate    apply the results store schema
  serve      the HTTP API (vendorscan serve --help)
  worker     a queue worker (needs REDIS_URL)
  scheduler  the weekly channel scans (needs REDIS_URL)
`;

type Command = (argv: string[]) => Promise<number>;

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
const commands: Record<string, { run: Command; usage: string }> = {
  scan: { run: (argv) => scanCommand(argv, io), usage: scanUsage },
  query: { run: (argv) => queryCommand(argv, io), usage: queryUsage },
  migrate: { run: (argv) => migrateCommand(argv, io), usage: '' },
  serve: { run: (argv) => serveCommand(argv, io), usage: serveUsage },
  worker: { run: (argv) => workerCommand(argv, io), usage: '' },
  scheduler: { run: (argv) => schedulerCommand(argv, io), usage: '' },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vendorscan: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      process.stderr.write(`vendorscan ${name}: ${message}\n(see vendorscan ${name} --help)\n`);
      return 2;
    }
    // Configuration errors (bad rule, bad signature file) carry their own location in the message.
    process.stderr.write(`vendorscan ${name}: ${message}\n`);
    return isConfigurationError(err) ? 2 : 1;
  }
}

function isConfigurationError(err: unknown): boolean {
  const name = err instanceof Error ? err.constructor.name : '';
  return ['RuleCompileError', 'SignatureError', 'StorePathError', 'VersionRangeError', 'PatternError', 'MigrationError'].includes(name);
}

process.exitCode = await main(process.argv.slice(2));
