// Copies as an aligned plain-text table for a terminal (query and diff print it; `--format table`
// of the dispatcher adds the title and coverage line): package, library version, confidence,
// advisories, file, and attribution when known. Cells are made printable (control characters
// escaped) since file names come from untrusted NARs.
import { coverageLine } from './coverage-line.ts';
import type { ExportInput, ExportRow } from './rows.ts';

/** Control characters and the like as \xNN, so a file name cannot move the terminal's cursor. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function versionText(c: Pick<ExportRow, 'version' | 'versionRaw'>): string {
  return c.version ?? (c.versionRaw ? `? (${c.versionRaw})` : '?');
}

export function copiesTable(copies: readonly ExportRow[], indent = '  '): string {
  if (copies.length === 0) return `${indent}(none)\n`;
  const header = ['PACKAGE', 'LIBRARY', 'VERSION', 'CONFIDENCE', 'ADVISORIES', 'FILE'];
  const withAttr = copies.some((c) => c.attribute !== null);
  if (withAttr) header.push('ATTRIBUTE', 'MAINTAINERS');
  const withChange = copies.some((c) => c.change !== undefined);
  if (withChange) header.push('CHANGE');
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
    if (withChange) row.push(c.change ? `${c.change}${c.changeNote ? ` (${c.changeNote})` : ''}` : '-');
    return row.map(printable);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function formatTable(input: ExportInput): string {
  const head = `${input.title ? `${printable(input.title)}\n` : ''}${coverageLine(input.coverage)}\n`;
  return `${head}${input.rows.length === 0 ? 'No copies.\n' : copiesTable(input.rows, '')}`;
}
