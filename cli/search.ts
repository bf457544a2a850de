// `vendorscan search cancel ID` / `vendorscan search show ID`: an emergency search from the command
// line, on the results store the service uses (DATABASE_URL or the embedded one). Cancelling stops
// every worker at its next path; the paths not yet scanned are settled as "search cancelled".
import { cancelSearch, searchProblems } from '../store/search-control.ts';
import { searchProgress } from '../store/searches.ts';
import { openResultsStore } from '../store/migrate.ts';
import { loadConfig } from '../services/config.ts';
import { UsageError } from './usage-error.ts';
import type { Command, CommandIO } from './flags.ts';

const usage = `Usage: vendorscan search cancel ID
       vendorscan search show ID

  cancel ID   stop search ID: paths not yet scanned are not scanned (its matches so far stay)
  show ID     its state, counts and the paths that failed or timed out
`;

export const command: Command = {
  usage,
  run: searchCommand,
};

async function searchCommand(argv: string[], io: CommandIO): Promise<number> {
  const [action, id, ...rest] = argv;
  if (action === '--help' || action === '-h') {
    io.stdout.write(usage);
    return 0;
  }
  if (action !== 'cancel' && action !== 'show') throw new UsageError(`search: the action must be cancel or show, got ${action === undefined ? 'nothing' : `"${action}"`}`);
  if (id === undefined || !/^\d{1,15}$/.test(id)) throw new UsageError(`search ${action}: ID must be a search id (a whole number), got ${id === undefined ? 'nothing' : `"${id}"`}`);
  if (rest.length > 0) throw new UsageError(`search ${action}: unexpected "${rest[0]}"`);
  const db = await openResultsStore(loadConfig(io.env));
  try {
    const searchId = Number(id);
    if (action === 'cancel') {
      const before = await cancelSearch(db, searchId);
      if (before === null) throw new UsageError(`search ${searchId} does not exist`);
      const live = before === 'queued' || before === 'running' || before === 'interrupted';
      io.stdout.write(live ? `Search ${searchId} cancelled.\n` : `Search ${searchId} was already ${before}; nothing to cancel.\n`);
      return 0;
    }
    const s = await searchProgress(db, searchId);
    if (!s) throw new UsageError(`search ${searchId} does not exist`);
    const { timedOut, problems } = await searchProblems(db, searchId);
    io.stdout.write(`Search ${s.id} (${s.kind}): ${s.state}; ${s.scanned} scanned, ${s.notInCache} not in cache, ${s.failed} failed, ${timedOut} timed out, ${s.pending} pending of ${s.total ?? '?'}; ${s.matches} matches\n`);
    for (const p of problems) io.stdout.write(`  ${p.status} ${p.storePath}: ${p.reason}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
