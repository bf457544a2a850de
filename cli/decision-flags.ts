// What query and diff share: the flags that name the decision files (advisories, packages,
// triage; each defaulting to its VENDORSCAN_* variable), the triage note of the coverage line,
// and copies as a table or JSON lines (the other formats come from services/output/).
import type { Config } from '../services/config.ts';
import { loadDecisionContext, type DecisionContext } from '../services/decisions/context.ts';
import type { Copy } from '../services/decisions/copies.ts';
import { UsageError } from './usage-error.ts';

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
  --format table|jsonl output (default table)
`;

export type CopyFormat = 'table' | 'jsonl';

export function copyFormat(value: string | undefined): CopyFormat {
  const format = value ?? 'table';
  if (format !== 'table' && format !== 'jsonl') throw new UsageError(`--format must be table or jsonl, got "${value}"`);
  return format;
}

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

export function versionText(c: Pick<Copy, 'version' | 'versionRaw'>): string {
  return c.version ?? (c.versionRaw ? `? (${c.versionRaw})` : '?');
}

/** Copies as an aligned table: package, library version, file, advisories, attribution when known. */
export function copiesTable(copies: readonly Copy[], indent = '  '): string {
  if (copies.length === 0) return `${indent}(none)\n`;
  const header = ['PACKAGE', 'LIBRARY', 'VERSION', 'CONFIDENCE', 'ADVISORIES', 'FILE'];
  const withAttr = copies.some((c) => c.attribute !== null);
  if (withAttr) header.push('ATTRIBUTE', 'MAINTAINERS');
  const rows = copies.map((c) => {
    const row = [
      `${c.pname}${c.packageVersion ? ` ${c.packageVersion}` : ''}${c.vendored ? '' : ' (own)'}`,
      c.library,
      versionText(c),
      c.confidence,
      c.advisories.join(',') || '-',
      `${c.storePath}${c.file ? `/${c.file}` : ''}${c.triage ? `  [suppressed: ${c.triage.map((t) => t.reason).join('; ')}]` : ''}`,
    ];
    if (withAttr) row.push(c.attribute ?? '-', c.maintainers.join(',') || '-');
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
