// `vendorscan diff [--from RUN] [--to RUN]`: what changed between two library scans of the same
// scope (by default the last two): copies that appeared, went away or changed version (paired by
// package name across store-path hashes), and copies newly or no longer under an advisory.
import { openResultsStore } from '../store/migrate.ts';
import type { Queryable } from '../store/database.ts';
import { answeringRun, coverageLine, RunNotAnswerableError, type RunCoverage } from '../store/coverage.ts';
import { previousRunOfScope } from '../store/diff.ts';
import { loadConfig } from '../services/config.ts';
import { diffRuns } from '../services/decisions/answers.ts';
import type { Copy } from '../services/decisions/copies.ts';
import { renderExport, rowsFromDiff } from '../services/output/index.ts';
import { parseFormatFlag } from './output-format.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, type Command, type CommandIO } from './flags.ts';
import { copiesTable, decisionContext, decisionFlags, decisionUsage, suppressedNote, versionText } from './decision-flags.ts';

const usage = `Usage: vendorscan diff [--from RUN] [--to RUN] [options]

  --to RUN             the later run (default: the latest completed library scan)
  --from RUN           the earlier run (default: the completed run of the same scope before --to)
  --vendored-only      only vendored copies (default: every copy, the libraries' own packages too)
${decisionUsage}`;

export const command: Command = {
  usage,
  run: diffCommand,
};

/** The library scan a flag names (a usage error when it cannot answer), else the latest one; null when there is none. */
async function runFlag(db: Queryable, name: string, value: string | undefined): Promise<RunCoverage | null> {
  if (value !== undefined && !/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be a run id, got "${value}"`);
  try {
    return await answeringRun(db, value === undefined ? {} : { runId: Number(value) });
  } catch (err) {
    if (err instanceof RunNotAnswerableError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
}

async function diffCommand(argv: string[], io: CommandIO): Promise<number> {
  const v = parseFlags(argv, { from: { type: 'string' }, to: { type: 'string' }, 'vendored-only': { type: 'boolean' }, ...decisionFlags, help: { type: 'boolean', short: 'h' } });
  if (v.help) {
    io.stdout.write(usage);
    return 0;
  }
  const format = parseFormatFlag(v.format);
  const config = loadConfig(io.env);
  const ctx = decisionContext(v, config);
  const includeSuppressed = v['include-suppressed'] ?? false;
  const db = await openResultsStore(config);
  try {
    const toRun = await runFlag(db, 'to', v.to);
    if (toRun === null) {
      io.stderr.write('No completed library scan yet: run `vendorscan scan` first.\n');
      return 1;
    }
    const to = toRun.runId;
    const from = v.from !== undefined ? ((await runFlag(db, 'from', v.from))?.runId ?? null) : await previousRunOfScope(db, to);
    if (from === null) throw new UsageError(`run ${to} has no earlier completed library scan of the same scope to compare with: give --from`);
    const d = await diffRuns(db, ctx, from, to, { vendoredOnly: v['vendored-only'] ?? false, includeSuppressed });
    if (format === 'jsonl') {
      const out = (change: string, body: object): void => {
        io.stdout.write(`${JSON.stringify({ from, to, change, ...body })}\n`);
      };
      for (const c of d.appeared) out('appeared', c);
      for (const c of d.disappeared) out('disappeared', c);
      for (const c of d.changed) out('changed', c);
      for (const c of d.newlyAffected) out('newly-affected', c);
      for (const c of d.noLongerAffected) out('no-longer-affected', c);
      return 0;
    }
    if (format !== 'table') {
      io.stderr.write(`From: ${coverageLine(d.from, 'asked')}\nTo:   ${coverageLine(d.to, 'asked')}${suppressedNote(d.suppressed, includeSuppressed)}\n`);
      io.stdout.write(renderExport(format, { rows: rowsFromDiff(d), coverage: d.to, title: `changes from run ${from} to run ${to}` }));
      return 0;
    }
    io.stdout.write(`From: ${coverageLine(d.from, 'asked')}\nTo:   ${coverageLine(d.to, 'asked')}${suppressedNote(d.suppressed, includeSuppressed)}\n`);
    io.stdout.write(`Appeared: ${d.appeared.length}\n${copiesTable(d.appeared)}`);
    io.stdout.write(`Went away: ${d.disappeared.length}\n${copiesTable(d.disappeared)}`);
    io.stdout.write(`Changed version: ${d.changed.length}\n`);
    for (const c of d.changed) io.stdout.write(`  ${c.after.pname} ${c.before.packageVersion ?? '?'} → ${c.after.packageVersion ?? '?'}: ${c.after.library} ${versionText(c.before)} → ${versionText(c.after)} (${place(c.before)} → ${place(c.after)})\n`);
    const adv = (title: string, list: { copy: Copy; advisories: string[] }[]): void => {
      io.stdout.write(`${title}: ${list.length}\n`);
      for (const x of list) io.stdout.write(`  ${x.advisories.join(', ')}: ${x.copy.library} ${versionText(x.copy)} in ${place(x.copy)}\n`);
    };
    adv('Newly affected', d.newlyAffected);
    adv('No longer affected', d.noLongerAffected);
    return 0;
  } finally {
    await db.close();
  }
}

function place(c: Copy): string {
  return `${c.storePath}${c.file ? `/${c.file}` : ''}`;
}
