// The coverage of an answer in one line of words, for the formats people read (table, markdown):
// which run, of what, and how many store paths were scanned, reused, missing or failed, so that
// "no copies" is never read without what was looked at.
import type { RunCoverage } from './rows.ts';

export function coverageLine(c: RunCoverage | null): string {
  if (c === null) return 'Coverage: an unstored scan (--no-store); no run to name.';
  const scope = c.scope.revision ? `${c.scope.label} at ${c.scope.revision}` : c.scope.label;
  const parts = [`${c.scanned + c.reused} of ${c.total} store paths scanned (${c.reused} reused from earlier scans)`, `${c.notInCache} not in the cache`, `${c.failed} failed`];
  if (c.pending > 0) parts.push(`${c.pending} pending`);
  const when = c.finishedAt ? `, finished ${c.finishedAt}` : '';
  const verdict = c.complete ? 'complete' : `INCOMPLETE: ${c.incomplete ?? c.state}`;
  return `Coverage: run ${c.runId} (${scope}${when}, ruleset ${c.rulesetDigest.slice(0, 12)}): ${parts.join(', ')}; ${verdict}.`;
}
