// `vendorscan query --library libwebp --version '<1.3.2'` and `vendorscan query --advisory
// CVE-2023-4863`: the API's vendors and affected answers, in a terminal. Every copy says which
// advisories it falls under; an advisory's copies of unknown version are listed apart.
import { parseVersionRange } from '../signatures/version.ts';
import { vendors, type UnknownMode } from '../store/queries.ts';
import { openResultsStore } from '../store/migrate.ts';
import { loadConfig } from '../services/config.ts';
import { affectedBy, decorateRows } from '../services/decisions/answers.ts';
import { latestLibraryScan, runCoverage } from '../store/coverage.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, positiveInt, type Command, type CommandIO } from './flags.ts';
import { copiesTable, copyFormat, coverageLine, decisionContext, decisionFlags, decisionUsage } from './decision-flags.ts';

const usage = `Usage: vendorscan query (--library NAME [--version RANGE] | --advisory ID) [options]

  --library NAME       libwebp, libpng, libvpx, zlib, …
  --version RANGE      e.g. '<1.3.2', '>=1.6.0 <1.6.43', '<1.3.2 || >=2.0.0' (default: any)
  --advisory ID        every copy an advisory covers (CVE-2023-4863, a GHSA alias, …), through the
                       library's version or the bundling product's (Chromium, Electron, CEF);
                       copies whose version is unknown are listed apart as "cannot tell"
  --run ID             a run (default: the latest completed library scan)
  --unknown MODE       --library: include|exclude|only copies without a readable version (default include)
  --all                also the library's own packages (default: vendored copies only)
  --limit N            rows (default 1000)
${decisionUsage}`;

export const command: Command = {
  summary: 'who vendors a library at which versions, or what an advisory covers, from the latest library scan',
  usage,
  run: queryCommand,
};

async function queryCommand(argv: string[], io: CommandIO): Promise<number> {
  const v = parseFlags(argv, {
    library: { type: 'string' },
    version: { type: 'string' },
    advisory: { type: 'string' },
    run: { type: 'string' },
    unknown: { type: 'string' },
    all: { type: 'boolean' },
    limit: { type: 'string' },
    ...decisionFlags,
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.stdout.write(usage);
    return 0;
  }
  if (!v.library && !v.advisory) throw new UsageError('give --library or --advisory');
  if (v.library && v.advisory) throw new UsageError('give --library or --advisory, not both');
  if (v.advisory && (v.version !== undefined || v.unknown !== undefined)) throw new UsageError('--version and --unknown go with --library; an advisory brings its own ranges');
  const format = copyFormat(v.format);
  const unknown = (v.unknown ?? 'include') as UnknownMode;
  if (!['include', 'exclude', 'only'].includes(unknown)) throw new UsageError(`--unknown must be include, exclude or only, got "${v.unknown}"`);
  let range = null;
  try {
    range = v.version ? parseVersionRange(v.version) : null;
  } catch (err) {
    throw new UsageError(`--version: ${(err as Error).message}`);
  }
  const limit = positiveInt('limit', v.limit, 1000);
  if (v.run !== undefined && !/^\d+$/.test(v.run)) throw new UsageError(`--run must be a run id, got "${v.run}"`);
  const config = loadConfig(io.env);
  const ctx = decisionContext(v, config);
  const includeSuppressed = v['include-suppressed'] ?? false;
  const db = await openResultsStore(config);
  try {
    const runId = v.run !== undefined ? Number(v.run) : await latestLibraryScan(db);
    if (runId === null) {
      io.stdout.write('No completed run yet: run `vendorscan scan` first.\n');
      return 0;
    }
    if (v.advisory) {
      const a = await affectedBy(db, ctx, runId, v.advisory, { vendoredOnly: !v.all, includeSuppressed, limit, offset: 0 });
      if (format === 'jsonl') {
        for (const c of a.affected) io.stdout.write(`${JSON.stringify({ run: runId, advisory: a.advisory.id, status: 'affected', ...c })}\n`);
        for (const c of a.cannotTell) io.stdout.write(`${JSON.stringify({ run: runId, advisory: a.advisory.id, status: 'cannot-tell', ...c })}\n`);
        return 0;
      }
      const what = (n: number): string => `${n} ${v.all ? '' : 'vendored '}cop${n === 1 ? 'y' : 'ies'}`;
      io.stdout.write(coverageLine(a.run, a.suppressed, includeSuppressed));
      io.stdout.write(`${a.advisory.id}${a.advisory.aliases.length ? ` (${a.advisory.aliases.join(', ')})` : ''}: ${a.advisory.summary ?? ''}\n`);
      io.stdout.write(`Affected: ${what(a.totalAffected)}\n${copiesTable(a.affected)}`);
      io.stdout.write(`Cannot tell (version unknown or unreadable): ${what(a.totalCannotTell)}\n${copiesTable(a.cannotTell)}`);
      return 0;
    }
    const library = v.library ?? '';
    const result = await vendors(db, { runId, library, range, vendored: v.all ? null : true, unknown, limit, offset: 0 });
        const { copies, suppressed } = await decorateRows(db, ctx, runId, result.rows, includeSuppressed);
    if (format === 'jsonl') {
      for (const c of copies) io.stdout.write(`${JSON.stringify({ run: runId, ...c })}\n`);
      return 0;
    }
    const coverage = await runCoverage(db, runId);
    if (coverage) io.stdout.write(coverageLine(coverage, suppressed, includeSuppressed));
    io.stdout.write(`${result.total} ${v.all ? '' : 'vendored '}cop${result.total === 1 ? 'y' : 'ies'} of ${library}${v.version ? ` ${v.version}` : ''}${unknown === 'exclude' ? '' : unknown === 'only' ? ' (version unknown only)' : ' (including unknown versions)'}\n`);
    io.stdout.write(copiesTable(copies));
    return 0;
  } finally {
    await db.close();
  }
}
