// `vendorscan query --library libwebp --version '<1.3.2'`: the API's vendors answer, in a terminal.
import { parseVersionRange } from '../signatures/version.ts';
import { vendors, type UnknownMode } from '../store/queries.ts';
import { latestCompletedRun } from '../store/runs.ts';
import { openResultsStore } from '../store/migrate.ts';
import { loadConfig } from '../services/config.ts';
import { renderExport, rowFromVendorRow } from '../services/output/index.ts';
import { runCoverage } from '../store/coverage.ts';
import { FORMAT_USAGE, parseFormatFlag } from './output-format.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, positiveInt, type Command, type CommandIO } from './flags.ts';

const usage = `Usage: vendorscan query --library NAME [--version RANGE] [options]

  --library NAME       libwebp, libpng, libvpx, zlib, …
  --version RANGE      e.g. '<1.3.2', '>=1.6.0 <1.6.43', '<1.3.2 || >=2.0.0' (default: any)
  --run ID             a run (default: the latest completed run)
  --unknown MODE       include|exclude|only copies without a readable version (default include)
  --all                also the library's own packages (default: vendored copies only)
  --limit N            rows (default 1000)
  ${FORMAT_USAGE}
`;

export const command: Command = {
  summary: 'who vendors a library at which versions, from the latest library scan',
  usage,
  run: queryCommand,
};

async function queryCommand(argv: string[], io: CommandIO): Promise<number> {
  const v = parseFlags(argv, {
    library: { type: 'string' },
    version: { type: 'string' },
    run: { type: 'string' },
    unknown: { type: 'string' },
    all: { type: 'boolean' },
    limit: { type: 'string' },
    format: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.stdout.write(usage);
    return 0;
  }
  if (!v.library) throw new UsageError('--library is required');
  const unknown = (v.unknown ?? 'include') as UnknownMode;
  if (!['include', 'exclude', 'only'].includes(unknown)) throw new UsageError(`--unknown must be include, exclude or only, got "${v.unknown}"`);
  const format = parseFormatFlag(v.format);
  let range = null;
  try {
    range = v.version ? parseVersionRange(v.version) : null;
  } catch (err) {
    throw new UsageError(`--version: ${(err as Error).message}`);
  }
  const limit = positiveInt('limit', v.limit, 1000);
  if (v.run !== undefined && !/^\d+$/.test(v.run)) throw new UsageError(`--run must be a run id, got "${v.run}"`);
  const db = await openResultsStore(loadConfig(io.env));
  try {
    const runId = v.run !== undefined ? Number(v.run) : await latestCompletedRun(db);
    if (runId === null) {
      io.stdout.write('No completed run yet: run `vendorscan scan` first.\n');
      return 0;
    }
    const result = await vendors(db, { runId, library: v.library, range, vendored: v.all ? null : true, unknown, limit, offset: 0 });
    if (format !== 'table') {
      const title = `${v.all ? '' : 'vendored '}copies of ${v.library}${v.version ? ` ${v.version}` : ''}`;
      io.stdout.write(renderExport(format, { rows: result.rows.map(rowFromVendorRow), coverage: await runCoverage(db, runId), title }));
      return 0;
    }
    io.stdout.write(`Run ${runId}: ${result.total} ${v.all ? '' : 'vendored '}cop${result.total === 1 ? 'y' : 'ies'} of ${v.library}${v.version ? ` ${v.version}` : ''}${unknown === 'exclude' ? '' : unknown === 'only' ? ' (version unknown only)' : ' (including unknown versions)'}\n`);
    for (const r of result.rows) {
      io.stdout.write(`${(r.version ?? (r.versionRaw ? `? (${r.versionRaw})` : '?')).padEnd(24)} ${r.confidence.padEnd(7)} ${r.storePath}${r.file ? `/${r.file}` : ''}${r.vendored ? '' : '  (own package)'}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
