// The decisions the CLI and the API answer alike: which advisories a run's copies fall under, the
// copies affected by one advisory (with the undecidable ones apart), and what changed between two
// runs. Every answer carries the run's coverage and how many copies the triage file hid.
import type { Queryable } from '../../store/database.ts';
import { runCopies, type CopyRow } from '../../store/copies.ts';
import { runCoverage, type RunCoverage } from '../../store/coverage.ts';
import { advisoryLibraries, BUNDLING_PRODUCTS, findAdvisory } from '../../advisories/evaluate.ts';
import type { Advisory } from '../../advisories/loader.ts';
import { VendorscanError } from '../../errors/errors.ts';
import type { DecisionContext } from './context.ts';
import { applyTriage, judgeCopies, type Copy, type JudgedCopy } from './copies.ts';
import { diffCopies, type RunDiff } from './diff.ts';

export class DecisionNotFoundError extends VendorscanError {
  constructor(message: string) {
    super('VS_NOT_FOUND', 'not-found', message);
  }
}

export interface AnswerOptions {
  /** true: only vendored copies (the default); false: every copy, the libraries' own packages too. */
  vendoredOnly: boolean;
  includeSuppressed: boolean;
}

async function coverageOf(db: Queryable, runId: number): Promise<RunCoverage> {
  const coverage = await runCoverage(db, runId);
  if (!coverage) throw new DecisionNotFoundError(`run ${runId} does not exist`);
  return coverage;
}

async function judgedRun(db: Queryable, ctx: DecisionContext, coverage: RunCoverage, libraries: readonly string[] | null, vendoredOnly: boolean): Promise<JudgedCopy[]> {
  const rows = await runCopies(db, coverage.runId, libraries);
  const judged = judgeCopies(rows, ctx, coverage.scope.channel);
  return vendoredOnly ? judged.filter((j) => j.copy.vendored) : judged;
}

export interface AdvisorySummary {
  id: string;
  aliases: string[];
  summary: string | null;
  published: string | null;
  modified: string;
  libraries: string[];
  affected: number;
  cannotTell: number;
}

export async function advisoryList(db: Queryable, ctx: DecisionContext, runId: number, options: AnswerOptions): Promise<{ run: RunCoverage; suppressed: number; advisories: AdvisorySummary[] }> {
  const run = await coverageOf(db, runId);
  const judged = await judgedRun(db, ctx, run, null, options.vendoredOnly);
  let suppressed = 0;
  const advisories = ctx.advisories
    .filter((a) => a.withdrawn === undefined)
    .map((a): AdvisorySummary => {
      const affected = applyTriage(judged.filter((j) => j.verdict.advisories.includes(a.id)), ctx, a.id, options.includeSuppressed);
      const cannotTell = applyTriage(judged.filter((j) => j.verdict.cannotTell.includes(a.id)), ctx, a.id, options.includeSuppressed);
      suppressed += affected.suppressed + cannotTell.suppressed;
      return {
        id: a.id,
        aliases: a.aliases ?? [],
        summary: a.summary ?? null,
        published: a.published ?? null,
        modified: a.modified,
        libraries: advisoryLibraries(a),
        affected: affected.kept.length,
        cannotTell: cannotTell.kept.length,
      };
    })
    .sort((x, y) => y.affected - x.affected || y.cannotTell - x.cannotTell || x.id.localeCompare(y.id));
  return { run, suppressed, advisories };
}

export interface AdvisoryDetail {
  id: string;
  aliases: string[];
  summary: string | null;
  details: string | null;
  references: { type: string; url: string }[];
  published: string | null;
  modified: string;
}

export interface AffectedAnswer {
  run: RunCoverage;
  advisory: AdvisoryDetail;
  affected: Copy[];
  cannotTell: Copy[];
  totalAffected: number;
  totalCannotTell: number;
  suppressed: number;
}

/** The advisory by id or alias, or a not-found error naming it. */
export function advisoryById(ctx: DecisionContext, id: string): Advisory {
  const advisory = findAdvisory(ctx.advisories, id);
  if (!advisory) throw new DecisionNotFoundError(`no advisory "${id}" (loaded: ${ctx.advisories.length}; ids such as ${ctx.advisories.slice(0, 3).map((a) => a.id).join(', ')})`);
  return advisory;
}

export async function affectedBy(
  db: Queryable,
  ctx: DecisionContext,
  runId: number,
  id: string,
  options: AnswerOptions & { limit: number; offset: number },
): Promise<AffectedAnswer> {
  const advisory = advisoryById(ctx, id);
  const run = await coverageOf(db, runId);
  // The advisory's libraries, and the products whose version may decide for a copy they bundle.
  const libraries = [...new Set([...advisoryLibraries(advisory), ...BUNDLING_PRODUCTS])];
  const judged = await judgedRun(db, ctx, run, libraries, options.vendoredOnly);
  const affected = applyTriage(judged.filter((j) => j.verdict.advisories.includes(advisory.id)), ctx, advisory.id, options.includeSuppressed);
  const cannotTell = applyTriage(judged.filter((j) => j.verdict.cannotTell.includes(advisory.id)), ctx, advisory.id, options.includeSuppressed);
  const page = (list: JudgedCopy[]): Copy[] => list.slice(options.offset, options.offset + options.limit).map((j) => j.copy);
  return {
    run,
    advisory: {
      id: advisory.id,
      aliases: advisory.aliases ?? [],
      summary: advisory.summary ?? null,
      details: advisory.details ?? null,
      references: (advisory.references ?? []).map((r) => ({ type: r.type, url: r.url })),
      published: advisory.published ?? null,
      modified: advisory.modified,
    },
    affected: page(affected.kept),
    cannotTell: page(cannotTell.kept),
    totalAffected: affected.kept.length,
    totalCannotTell: cannotTell.kept.length,
    suppressed: affected.suppressed + cannotTell.suppressed,
  };
}

/** Copies from a store query (the vendors answer), with advisories and attribution; products of the run decide for what they bundle. */
export async function decorateRows<R extends CopyRow>(db: Queryable, ctx: DecisionContext, runId: number, rows: readonly R[], includeSuppressed: boolean): Promise<{ copies: (Copy & { rule: string })[]; suppressed: number }> {
  const coverage = await coverageOf(db, runId);
  const files = new Set(rows.map((r) => `${r.storePath}\0${r.file}`));
  const products = (await runCopies(db, runId, BUNDLING_PRODUCTS)).filter((p) => files.has(`${p.storePath}\0${p.file}`) && !rows.some((r) => r.storePath === p.storePath && r.file === p.file && r.library === p.library));
  const judged = judgeCopies([...rows, ...products], ctx, coverage.scope.channel).slice(0, rows.length);
  const { kept, suppressed } = applyTriage(judged, ctx, null, includeSuppressed);
  return { copies: kept.map((j) => ({ ...j.copy, rule: j.row.rule })), suppressed };
}

export interface DiffAnswer extends RunDiff {
  from: RunCoverage;
  to: RunCoverage;
  suppressed: number;
}

/** What changed from run `from` to run `to`: every copy (vendored or not) unless vendoredOnly. */
export async function diffRuns(db: Queryable, ctx: DecisionContext, from: number, to: number, options: AnswerOptions): Promise<DiffAnswer> {
  const [a, b] = [await coverageOf(db, from), await coverageOf(db, to)];
  const before = applyTriage(await judgedRun(db, ctx, a, null, options.vendoredOnly), ctx, null, options.includeSuppressed);
  const after = applyTriage(await judgedRun(db, ctx, b, null, options.vendoredOnly), ctx, null, options.includeSuppressed);
  return { from: a, to: b, suppressed: before.suppressed + after.suppressed, ...diffCopies(before.kept.map((j) => j.copy), after.kept.map((j) => j.copy)) };
}
