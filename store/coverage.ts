// What an answer covered. Every answer about copies (the CLI's query, /v1/vendors, /v1/libraries,
// advisories, diffs, the dashboard) comes from one library scan and carries its coverage: which run,
// of what scope, when, with which ruleset, and how many store paths were scanned, reused from
// earlier scans, not in the cache, or failed. "None" is only ever said next to what was covered.
import type { Queryable } from './database.ts';
import type { RunKind, RunSource } from './runs.ts';
import { VendorscanError } from '../errors/errors.ts';

/** Failures above this share of the scope make an answer "incomplete", in words. */
export const INCOMPLETE_FAILURE_SHARE = 0.01;

export interface RunCoverage {
  runId: number;
  kind: RunKind;
  scope: { kind: RunSource['kind']; channel: string | null; revision: string | null; label: string };
  state: string;
  startedAt: string | null;
  finishedAt: string | null;
  rulesetDigest: string;
  total: number;
  scanned: number;
  reused: number;
  notInCache: number;
  failed: number;
  pending: number;
  /** A completed library scan whose failures are within INCOMPLETE_FAILURE_SHARE of its scope. */
  complete: boolean;
  /** Why the answer is incomplete, in words (null when complete). */
  incomplete: string | null;
}

/** A run that cannot answer: ad-hoc, failed, still running, or missing. */
export class RunNotAnswerableError extends VendorscanError {
  readonly runId: number;
  constructor(runId: number, message: string) {
    super('VS_RUN_NOT_ANSWERABLE', 'usage', message);
    this.runId = runId;
  }
}

/**
 * Coverage of completed runs, per database: their counts never change again, and counting 200,000
 * run paths on every answer cost ~300 ms a request (issue 13 M9). Bounded: the oldest entries go first.
 */
const completedCoverage = new WeakMap<Queryable, Map<number, RunCoverage>>();
const COVERAGE_CACHE_SIZE = 256;

export async function runCoverage(db: Queryable, runId: number): Promise<RunCoverage | null> {
  const known = completedCoverage.get(db)?.get(runId);
  if (known) return known;
  const c = await countCoverage(db, runId);
  if (c?.state === 'completed') {
    const runs = completedCoverage.get(db) ?? new Map();
    completedCoverage.set(db, runs);
    if (runs.size >= COVERAGE_CACHE_SIZE) runs.delete(runs.keys().next().value as number);
    runs.set(runId, c);
  }
  return c;
}

async function countCoverage(db: Queryable, runId: number): Promise<RunCoverage | null> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT r.id, r.kind, r.source, r.channel, r.channel_revision, r.state, r.started_at, r.finished_at, r.ruleset_digest, r.total, r.error,
       count(rp.*) AS registered,
       count(*) FILTER (WHERE rp.status = 'scanned') AS scanned,
       count(*) FILTER (WHERE rp.status = 'skipped-unchanged') AS reused,
       count(*) FILTER (WHERE rp.status = 'not-in-cache') AS not_in_cache,
       count(*) FILTER (WHERE rp.status = 'failed') AS failed,
       count(*) FILTER (WHERE rp.status = 'pending') AS pending
     FROM runs r LEFT JOIN run_paths rp ON rp.run_id = r.id
     WHERE r.id = $1 GROUP BY r.id`,
    [runId],
  );
  const r = rows[0];
  if (!r) return null;
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  const source = (typeof r['source'] === 'string' ? JSON.parse(r['source']) : r['source']) as RunSource;
  const n = (k: string): number => Number(r[k] ?? 0);
  const total = r['total'] === null ? n('registered') : Number(r['total']);
  const failed = n('failed');
  const pending = n('pending');
  const state = String(r['state']);
  const kind = (r['kind'] as RunKind | undefined) ?? 'library-scan';
  const reasons: string[] = [];
  if (kind !== 'library-scan') reasons.push('an ad-hoc scan, not a library scan');
  if (state !== 'completed') reasons.push(state === 'failed' ? `the run failed${r['error'] ? ` (${String(r['error'])})` : ''}` : `the run is ${state}`);
  if (pending > 0) reasons.push(`${pending} of ${total} store paths not scanned yet`);
  if (total > 0 && failed / total > INCOMPLETE_FAILURE_SHARE) reasons.push(`${failed} of ${total} store paths (${((100 * failed) / total).toFixed(1)} %) failed`);
  return {
    runId: Number(r['id']),
    kind,
    scope: { kind: source.kind, channel: (r['channel'] as string | null) ?? null, revision: (r['channel_revision'] as string | null) ?? null, label: source.label },
    state,
    startedAt: iso(r['started_at']),
    finishedAt: iso(r['finished_at']),
    rulesetDigest: String(r['ruleset_digest']),
    total,
    scanned: n('scanned'),
    reused: n('reused'),
    notInCache: n('not_in_cache'),
    failed,
    pending,
    complete: reasons.length === 0,
    incomplete: reasons.length === 0 ? null : `incomplete: ${reasons.join('; ')}`,
  };
}

/** The latest completed library scan (of `channel` when given): the default answer. */
export async function latestLibraryScan(db: Queryable, scope: { channel?: string } = {}): Promise<number | null> {
  const { rows } =
    scope.channel === undefined
      ? await db.query<{ id: string }>("SELECT id FROM runs WHERE state = 'completed' AND kind = 'library-scan' ORDER BY finished_at DESC, id DESC LIMIT 1")
      : await db.query<{ id: string }>("SELECT id FROM runs WHERE state = 'completed' AND kind = 'library-scan' AND channel = $1 ORDER BY finished_at DESC, id DESC LIMIT 1", [scope.channel]);
  return rows[0] ? Number(rows[0].id) : null;
}

/**
 * The run an answer comes from and its coverage: the one asked for (which must be a completed
 * library scan), else the latest completed library scan of the scope. Null when there is none.
 */
export async function answeringRun(db: Queryable, ask: { runId?: number; channel?: string }): Promise<RunCoverage | null> {
  if (ask.runId !== undefined) {
    const c = await runCoverage(db, ask.runId);
    if (!c) throw new RunNotAnswerableError(ask.runId, `run ${ask.runId} does not exist`);
    if (c.kind !== 'library-scan') throw new RunNotAnswerableError(ask.runId, `run ${ask.runId} is an ad-hoc scan (needle, hex or rule): its results are not an answer about libraries`);
    if (c.state === 'failed') throw new RunNotAnswerableError(ask.runId, `run ${ask.runId} failed and answers nothing${c.incomplete ? ` (${c.incomplete})` : ''}`);
    return c;
  }
  const id = await latestLibraryScan(db, ask.channel === undefined ? {} : { channel: ask.channel });
  return id === null ? null : runCoverage(db, id);
}

/** The coverage as one line a person reads before the answer. */
export function coverageLine(c: RunCoverage, how: 'asked' | 'latest' | 'latest-of-channel'): string {
  const scope = c.scope.channel ? `channel ${c.scope.channel}${c.scope.revision ? ` (${c.scope.revision})` : ''}` : c.scope.label;
  const which = how === 'asked' ? `Run ${c.runId}` : how === 'latest' ? `Run ${c.runId}, the latest completed library scan of any scope` : `Run ${c.runId}, the latest completed library scan of this channel`;
  const when = c.finishedAt ? `finished ${c.finishedAt}` : `state ${c.state}`;
  const counts = `${c.total} store paths: ${c.scanned} scanned, ${c.reused} reused unchanged, ${c.notInCache} not in cache, ${c.failed} failed${c.pending ? `, ${c.pending} pending` : ''}`;
  return `${which}: ${scope}, ${when}, ruleset ${c.rulesetDigest.slice(0, 12)}; ${counts}.${c.incomplete ? ` INCOMPLETE: ${c.incomplete.replace(/^incomplete: /, '')}.` : ''}`;
}
