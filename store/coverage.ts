// STUB until the lead's store/coverage.ts lands on main (shared contract): how complete a run's
// answer is. Same names and shapes as the contract; on merge, main's version replaces this file.
import type { Queryable } from './database.ts';
import { runProgress } from './runs.ts';

export interface RunCoverage {
  runId: number;
  kind: 'library-scan';
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
  /** Words, when failed > 1% of total or pending > 0. */
  incomplete: string | null;
}

export async function runCoverage(db: Queryable, runId: number): Promise<RunCoverage | null> {
  const p = await runProgress(db, runId);
  if (!p) return null;
  const total = p.total ?? p.scanned + p.skipped + p.notInCache + p.failed + p.pending;
  const words: string[] = [];
  if (p.pending > 0) words.push(`${p.pending} of ${total} store paths not scanned yet`);
  if (p.failed > total / 100) words.push(`${p.failed} of ${total} store paths failed`);
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
    complete: words.length === 0 && p.state === 'completed',
    incomplete: words.length === 0 ? null : words.join('; '),
  };
}

/** The latest completed library scan (of a channel, when given). */
export async function latestLibraryScan(db: Queryable, options: { channel?: string } = {}): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM runs WHERE state = 'completed' AND ($1::text IS NULL OR source->>'channel' = $1) ORDER BY finished_at DESC, id DESC LIMIT 1",
    [options.channel ?? null],
  );
  return rows[0] ? Number(rows[0].id) : null;
}
