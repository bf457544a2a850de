// The `vendorscan` command line: dispatch only. Each command lives in its own file and is loaded
// when named, so `vendorscan --help` loads no database, queue, HTTP or AWS library.
import { readFileSync } from 'node:fs';
import { exitCodeFor, messageOf } from '../errors/errors.ts';
import type { Command, CommandIO } from './flags.ts';
import { UsageError } from './usage-error.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  scan: { summary: 'scan store paths of a binary cache for vendored libraries', load: () => import('./scan.ts') },
  query: { summary: 'who vendors a library at which versions, or what an advisory covers', load: () => import('./query.ts') },
  diff: { summary: 'what changed between two library scans: copies, versions, advisories', load: () => import('./diff.ts') },
  migrate: { summary: 'apply the results store schema', load: () => import('./migrate.ts') },
  serve: { summary: 'the HTTP API (and jobs, without REDIS_URL)', load: () => import('./serve.ts') },
  worker: { summary: 'a queue worker (needs REDIS_URL)', load: () => import('./worker.ts') },
  search: { summary: 'cancel or show an emergency search', load: () => import('./search.ts') },
  scheduler: { summary: 'the weekly channel scans (needs REDIS_URL)', load: () => import('./scheduler.ts') },
};

const usage = `Usage: vendorscan <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

  vendorscan <command> --help   the command's options
  vendorscan --version          version and ruleset digest
`;

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') return printVersion(io);
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`vendorscan: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    const code = exitCodeFor(err);
    const hint = err instanceof UsageError ? `\n(see vendorscan ${name} --help)` : '';
    io.stderr.write(`vendorscan ${name}: ${messageOf(err)}${hint}\n`);
    return code;
  }
}

async function printVersion(io: CommandIO): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const { loadConfig } = await import('../services/config.ts');
  const { loadSignatures } = await import('../signatures/loader.ts');
  const signatures = loadSignatures(loadConfig(io.env).signaturesDir);
  io.stdout.write(`vendorscan ${pkg.version}\nruleset ${signatures.digest}\nnode ${process.version}\n`);
  return 0;
}
