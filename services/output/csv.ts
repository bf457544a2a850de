// CSV export: RFC 4180 (CRLF line ends, every field quoted when it holds a quote, comma, CR or LF,
// quotes doubled), a header row, one row per copy. Spreadsheets run a cell that starts with = + - @
// (or tab / CR, which some strip first) as a formula: such cells get a leading apostrophe, as OWASP
// advises, since file names and version text come from untrusted NARs. List cells join with a space.
import type { ExportInput, ExportRow } from './rows.ts';

const COLUMNS: [string, (r: ExportRow) => string][] = [
  ['store_path', (r) => r.storePath],
  ['pname', (r) => r.pname],
  ['package_version', (r) => r.packageVersion ?? ''],
  ['attribute', (r) => r.attribute ?? ''],
  ['file', (r) => r.file],
  ['library', (r) => r.library],
  ['version', (r) => r.version ?? ''],
  ['version_raw', (r) => r.versionRaw ?? ''],
  ['confidence', (r) => r.confidence],
  ['evidence', (r) => r.evidence],
  ['rule', (r) => r.rule ?? ''],
  ['vendored', (r) => String(r.vendored)],
  ['linkage', (r) => r.linkage],
  ['advisories', (r) => r.advisories.join(' ')],
  ['maintainers', (r) => r.maintainers.join(' ')],
  ['homepage', (r) => r.homepage ?? ''],
  ['position', (r) => r.position ?? ''],
  ['search_url', (r) => r.links.search ?? ''],
  ['hydra_url', (r) => r.links.hydra ?? ''],
  ['suppressed_by', (r) => (r.triage ?? []).map((t) => t.reason).join('; ')],
  ['change', (r) => r.change ?? ''],
  ['change_note', (r) => r.changeNote ?? ''],
];

export const CSV_HEADER: readonly string[] = COLUMNS.map(([name]) => name);

/** One field: defused against formula injection, then quoted per RFC 4180 when it needs it. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function formatCsv(input: ExportInput): string {
  const lines = [CSV_HEADER.join(','), ...input.rows.map((r) => COLUMNS.map(([, get]) => csvField(get(r))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
