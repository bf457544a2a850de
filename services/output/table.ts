// A plain-text table of copy rows for a terminal: the coverage line, then one aligned line per copy.
// Cells are made printable (control characters escaped) since file names come from untrusted NARs.
import { coverageLine } from './coverage-line.ts';
import type { ExportInput, ExportRow } from './rows.ts';

/** Control characters and the like as \xNN, so a file name cannot move the terminal's cursor. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function copyVersion(r: Pick<ExportRow, 'version' | 'versionRaw'>): string {
  return r.version ?? (r.versionRaw ? `? (${r.versionRaw})` : '?');
}

export function formatTable(input: ExportInput): string {
  const head = `${input.title ? `${printable(input.title)}\n` : ''}${coverageLine(input.coverage)}\n`;
  if (input.rows.length === 0) return `${head}No copies.\n`;
  const header = ['PACKAGE', 'LIBRARY', 'VERSION', 'CONFIDENCE', 'ADVISORIES', 'FILE'];
  const rows = input.rows.map((r) => [
    r.attribute ?? `${r.pname}${r.packageVersion ? `-${r.packageVersion}` : ''}`,
    r.library,
    copyVersion(r),
    r.confidence,
    r.advisories.join(',') || '-',
    `${r.storePath}${r.file ? `/${r.file}` : ''}${r.vendored ? '' : '  (own package)'}`,
  ].map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${head}${[line(header), ...rows.map(line)].join('\n')}\n`;
}
