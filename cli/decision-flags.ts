// What query and diff share: the flags that name the decision files (advisories, packages,
// triage; each defaulting to its VENDORSCAN_* variable), the triage note of the coverage line,
// and copies as a table or JSON lines (the other formats come from services/output/).
import type { Config } from '../services/config.ts';
import { loadDecisionContext, type DecisionContext } from '../services/decisions/context.ts';
import { FORMAT_USAGE } from './output-format.ts';

export const decisionFlags = {
  advisories: { type: 'string' },
  packages: { type: 'string' },
  triage: { type: 'string' },
  'include-suppressed': { type: 'boolean' },
  format: { type: 'string' },
} as const;

export const decisionUsage = `  --advisories DIR     more OSV advisories beside the bundled ones (env VENDORSCAN_ADVISORIES)
  --packages FILE      packages.json or \`nix-env -qa --json --meta --out-path\` output: attribute,
                       maintainers, homepage, position, links (env VENDORSCAN_PACKAGES)
  --triage FILE        triage file, TOML [[suppress]] entries (env VENDORSCAN_TRIAGE)
  --include-suppressed also the copies the triage file hides, with its reasons
  ${FORMAT_USAGE}
`;

export function decisionContext(v: { advisories?: string; packages?: string; triage?: string }, config: Config): DecisionContext {
  return loadDecisionContext({
    advisoriesDir: v.advisories ?? config.advisoriesDir,
    packagesFile: v.packages ?? config.packagesFile,
    triageFile: v.triage ?? config.triageFile,
  });
}

/** What the coverage line adds about triage: how many copies the triage file hid. */
export function suppressedNote(suppressed: number, includeSuppressed: boolean): string {
  if (suppressed === 0) return '';
  return includeSuppressed ? ` ${suppressed} suppressed by triage (shown).` : ` ${suppressed} suppressed by triage (--include-suppressed shows them).`;
}

export { copiesTable, versionText } from '../services/output/table.ts';
