// STUB until the lead's store/coverage.ts lands on main (same names and shapes, per the shared
// contract): what an answer covered. Replaced wholesale by main's file at the merge.
import type { Queryable } from './database.ts';
import { latestCompletedRun, runProgress } from './runs.ts';
import { VendorscanError } from '../errors/errors.ts';

export interface RunCoverage {
  runId: number;
  kind: 'library-scan' | 'adhoc-scan';
  scope: { kind: 'channel' | 'paths' | 'path'; channel: string | null; revision: string | null; label: string };
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
  complete: boolean;
  incomplete: string | null;
}

export class RunNotAnswerableError extends VendorscanError {
  readonly runId: number;
  constructor(runId: number, message: string) {
    super('VS_RUN_NOT_ANSWERABLE', 'usage', message);
    this.runId = runId;
  }
}

export async function runCoverage(db: Queryable, runId: number): Promise<RunCoverage | null> {
  const p = await runProgress(db, runId);
  if (!p) return null;
  const total = p.total ?? p.scanned + p.skipped + p.notInCache + p.failed + p.pending;
  const reasons: string[] = [];
  if (p.state !== 'completed') reasons.push(`the run is ${p.state}`);
  if (p.pending > 0) reasons.push(`${p.pending} of ${total} store paths not scanned yet`);
  if (total > 0 && p.failed / total > 0.01) reasons.push(`${p.failed} of ${total} store paths failed`);
  return {
    runId,
    kind: 'library-scan',
    scope: { kind: p.source.kind, channel: p.source.channel ?? null, revision: null, label: p.source.label },
    state: p.state,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt,
    rulesetDigest: p.rulesetDigest,
    total,
    scanned: p.scanned,
    reused: p.skipped,
    notInCache: p.notInCache,
    failed: p.failed,
    pending: p.pending,
    complete: reasons.length === 0,
    incomplete: reasons.length === 0 ? null : `incomplete: ${reasons.join('; ')}`,
  };
}

export async function latestLibraryScan(db: Queryable, _scope: { channel?: string } = {}): Promise<number | null> {
  return latestCompletedRun(db);
}

export async function answeringRun(db: Queryable, ask: { runId?: number; channel?: string }): Promise<RunCoverage | null> {
  if (ask.runId !== undefined) {
    const c = await runCoverage(db, ask.runId);
    if (!c) throw new RunNotAnswerableError(ask.runId, `run ${ask.runId} does not exist`);
    return c;
  }
  const id = await latestLibraryScan(db);
  return id === null ? null : runCoverage(db, id);
}
