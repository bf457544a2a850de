// `vendorscan query --library libwebp --version '<1.3.2'` and `vendorscan query --advisory
// CVE-2023-4863`: the API's vendors and affected answers, in a terminal, always under a line saying
// what it covers (run, scope, when, ruleset, paths scanned and failed, copies the triage file hid).
// Every copy says which advisories it falls under; an advisory's copies of unknown version are
// listed apart.
import { parseVersionRange, type VersionRange } from '../signatures/version.ts';
import { loadSignatures } from '../signatures/loader.ts';
import { isKnownLibrary, knownLibraryNames, LINKAGE_CHOICES, linkagesOf, vendors, type LinkageChoice, type UnknownMode } from '../store/queries.ts';
import { answeringRun, coverageLine, RunNotAnswerableError, type RunCoverage } from '../store/coverage.ts';
import { openResultsStore } from '../store/migrate.ts';
import { CHANNEL_NAME, loadConfig } from '../services/config.ts';
import { affectedBy, decorateRows } from '../services/decisions/answers.ts';
import type { Copy } from '../services/decisions/copies.ts';
import { copiesTable, decisionContext, decisionFlags, decisionUsage, suppressedNote } from './decision-flags.ts';
import { renderExport } from '../services/output/index.ts';
import { parseFormatFlag } from './output-format.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, positiveInt, type Command, type CommandIO } from './flags.ts';

const usage = `Usage: vendorscan query (--library NAME [--version RANGE] | --advisory ID) [options]

  --library NAME       libwebp, libpng, libvpx, zlib, … (an unknown name is an error listing the known ones)
  --version RANGE      e.g. '<1.3.2', '>=1.6.0 <1.6.43', '<1.3.2 || >=2.0.0' (default: any)
  --advisory ID        every copy an advisory covers (CVE-2023-4863, a GHSA alias, …), through the
                       library's version or the bundling product's (Chromium, Electron, CEF);
                       copies whose version is unknown are listed apart as "cannot tell"
  --channel NAME       answer from the latest completed library scan of this channel
  --run ID             answer from this library scan (default: the latest completed one of any scope)
  --unknown MODE       include|exclude|only copies without a readable version (default include)
  --all                also the library's own packages (default: vendored copies only)
  --linkage WHICH      any|copy|built-against|unknown (default: copy and unknown; built-against
                       findings are programs linked to the shared library, not copies: 'any'
                       or 'built-against' answers "who links it"; with --library)
  --limit N            rows (default 1000)
${decisionUsage}
  The first line says what the answer covers (on stderr for every format but table); "INCOMPLETE"
  when more than 1 % of the scope failed.
  Exit code 0 with an answer (even an empty one, under its coverage); 1 when no library scan
  can answer; 2 on bad arguments.
`;

export const command: Command = {
  usage,
  run: queryCommand,
};

async function queryCommand(argv: string[], io: CommandIO): Promise<number> {
  const v = parseFlags(argv, {
    library: { type: 'string' },
    version: { type: 'string' },
    advisory: { type: 'string' },
    channel: { type: 'string' },
    run: { type: 'string' },
    unknown: { type: 'string' },
    all: { type: 'boolean' },
    linkage: { type: 'string' },
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
  const unknown = (v.unknown ?? 'include') as UnknownMode;
  if (!['include', 'exclude', 'only'].includes(unknown)) throw new UsageError(`--unknown must be include, exclude or only, got "${v.unknown}"`);
  const linkage = v.linkage as LinkageChoice | undefined;
  if (linkage !== undefined && !LINKAGE_CHOICES.includes(linkage)) throw new UsageError(`--linkage must be ${LINKAGE_CHOICES.join(', ')}, got "${v.linkage}"`);
  if (linkage !== undefined && v.advisory) throw new UsageError('--linkage goes with --library; an advisory covers copies only');
  const format = parseFormatFlag(v.format);
  let range: VersionRange | null = null;
  try {
    range = v.version ? parseVersionRange(v.version) : null;
  } catch (err) {
    throw new UsageError(`--version: ${(err as Error).message}`);
  }
  const limit = positiveInt('limit', v.limit, 1000);
  if (v.run !== undefined && !/^\d{1,15}$/.test(v.run)) throw new UsageError(`--run must be a run id, got "${v.run}"`);
  if (v.channel !== undefined && !CHANNEL_NAME.test(v.channel)) throw new UsageError(`--channel: "${v.channel}" is not a channel name`);
  if (v.run !== undefined && v.channel !== undefined) throw new UsageError('give --run or --channel, not both');
  const config = loadConfig(io.env);
  const signatureLibraries = new Set([...loadSignatures(config.signaturesDir).rules.values()].map((m) => m.library));
  const ctx = decisionContext(v, config);
  const includeSuppressed = v['include-suppressed'] ?? false;
  const db = await openResultsStore(config);
  try {
    if (v.library !== undefined && !signatureLibraries.has(v.library) && !(await isKnownLibrary(db, v.library))) {
      const known = [...new Set([...signatureLibraries, ...(await knownLibraryNames(db))])].sort();
      throw new UsageError(`unknown library "${v.library}"; known: ${known.join(', ')}`);
    }
    let coverage: RunCoverage | null;
    try {
      coverage = await answeringRun(db, { ...(v.run !== undefined ? { runId: Number(v.run) } : {}), ...(v.channel !== undefined ? { channel: v.channel } : {}) });
    } catch (err) {
      if (err instanceof RunNotAnswerableError) throw new UsageError(err.message);
      throw err;
    }
    if (!coverage) {
      io.stderr.write(`No completed library scan${v.channel ? ` of channel ${v.channel}` : ''} yet, so nothing can be said about ${v.library ?? v.advisory}: run \`vendorscan scan\` first.\n`);
      return 1;
    }
    const how = v.run !== undefined ? 'asked' : v.channel !== undefined ? 'latest-of-channel' : 'latest';
    if (v.advisory !== undefined) {
      const a = await affectedBy(db, ctx, coverage.runId, v.advisory, { vendoredOnly: !v.all, includeSuppressed, limit, offset: 0 });
      const header = `${coverageLine(coverage, how)}${suppressedNote(a.suppressed, includeSuppressed)}\n`;
      if (format === 'jsonl') {
        io.stderr.write(header);
        for (const c of a.affected) io.stdout.write(`${JSON.stringify({ run: coverage.runId, advisory: a.advisory.id, status: 'affected', ...c })}\n`);
        for (const c of a.cannotTell) io.stdout.write(`${JSON.stringify({ run: coverage.runId, advisory: a.advisory.id, status: 'cannot-tell', ...c })}\n`);
        return 0;
      }
      if (format !== 'table') {
        io.stderr.write(header);
        const title = `${a.advisory.id}: ${a.totalAffected} affected, then ${a.totalCannotTell} whose version cannot tell`;
        io.stdout.write(renderExport(format, { rows: [...a.affected, ...a.cannotTell], coverage, title }));
        return 0;
      }
      const count = (n: number): string => `${n} ${v.all ? '' : 'vendored '}cop${n === 1 ? 'y' : 'ies'}`;
      io.stdout.write(header);
      io.stdout.write(`${a.advisory.id}${a.advisory.aliases.length ? ` (${a.advisory.aliases.join(', ')})` : ''}: ${a.advisory.summary ?? ''}\n`);
      io.stdout.write(`Affected: ${count(a.totalAffected)}\n${copiesTable(a.affected)}`);
      io.stdout.write(`Cannot tell (version unknown or unreadable): ${count(a.totalCannotTell)}\n${copiesTable(a.cannotTell)}`);
      return 0;
    }
    const library = v.library ?? '';
    const vendored = v.all ? null : true;
    const linkages = linkagesOf(linkage);
    const result = await vendors(db, { runId: coverage.runId, library, range, vendored, unknown, linkage: linkages, limit, offset: 0 });
    const { copies, suppressed } = await decorateRows(db, ctx, coverage.runId, result.rows, includeSuppressed);
    const header = `${coverageLine(coverage, how)}${suppressedNote(suppressed, includeSuppressed)}\n`;
    // "vendored copies of libwebp <1.3.2", "programs built against openssl", …
    const what = (many: boolean): string =>
      `${linkage === 'built-against' ? `program${many ? 's' : ''} built against` : `${v.all ? '' : 'vendored '}cop${many ? 'ies' : 'y'} of${linkage === 'any' ? ' or programs built against' : ''}`} ${library}${v.version ? ` ${v.version}` : ''}`;
    if (format !== 'table') {
      io.stderr.write(header);
      io.stdout.write(renderExport(format, { rows: copies, coverage, title: what(true) }));
      return 0;
    }
    io.stdout.write(header);
    const versions = unknown === 'exclude' ? ' (readable versions only)' : unknown === 'only' ? ' (version unknown only)' : ' (including unknown versions)';
    io.stdout.write(`${result.total} ${what(result.total !== 1)}${versions}${result.total > result.rows.length ? `, first ${result.rows.length} shown` : ''}.\n`);
    if (copies.length > 0) io.stdout.write(table(copies));
    if (!v.all) {
      const own = await vendors(db, { runId: coverage.runId, library, range, vendored: false, unknown, linkage: linkages, limit: 1, offset: 0 });
      if (own.total > 0) io.stdout.write(`(${own.total} cop${own.total === 1 ? 'y' : 'ies'} in ${library}'s own packages not shown: add --all)\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

function table(rows: Copy[]): string {
  const header = ['VERSION', 'CONFIDENCE', 'VENDORED', 'LINKAGE', 'PACKAGE', 'FILE', 'ADVISORIES'];
  const cells = rows.map((r) => [r.version ?? (r.versionRaw ? `? (${r.versionRaw})` : '?'), r.confidence, r.vendored ? 'yes' : 'no (own)', r.linkage, `${r.pname}${r.packageVersion ? ` ${r.packageVersion}` : ''}`, `${r.storePath}${r.file ? `/${r.file}` : ''}`, r.advisories.join(',') || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}
