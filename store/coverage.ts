// STUB for the exports branch only, until the lead's store/coverage.ts lands on main (contract:
// runCoverage(db, runId): Promise<RunCoverage | null>). On merge, main's file replaces this whole.
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
  incomplete: string | null;
}

export async function runCoverage(db: Queryable, runId: number): Promise<RunCoverage | null> {
  const p = await runProgress(db, runId);
  if (!p) return null;
  const total = p.total ?? p.scanned + p.skipped + p.notInCache + p.failed + p.pending;
  const incomplete = p.pending > 0 ? `${p.pending} of ${total} store paths not scanned yet` : total > 0 && p.failed / total > 0.01 ? `${p.failed} of ${total} store paths failed` : null;
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
    complete: p.state === 'completed' && incomplete === null,
    incomplete,
  };
}
