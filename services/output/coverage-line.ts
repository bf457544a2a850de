// The coverage line of the formats people read (table, markdown): the store's one wording of a
// run's coverage, or, for a scan that was not stored, that there is no run to name.
import { coverageLine as storeCoverageLine, type RunCoverage } from '../../store/coverage.ts';

export function coverageLine(c: RunCoverage | null): string {
  return c === null ? 'Coverage: an unstored scan (--no-store); no run to name.' : `Coverage: ${storeCoverageLine(c, 'asked')}`;
}
