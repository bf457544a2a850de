// The export formats and the one dispatcher every caller uses: `scan`, `query` and `diff` on the
// command line and the API's `?format=`. Each format is a pure function of plain copy rows and a
// coverage (rows.ts) to text; the registry names them, their media types and file extensions.
import { formatCsv } from './csv.ts';
import { formatCycloneDx, type CycloneDxOptions } from './cyclonedx.ts';
import { formatJsonl } from './jsonl.ts';
import { formatMarkdown } from './markdown.ts';
import type { ExportInput } from './rows.ts';
import { formatSarif } from './sarif.ts';
import { formatTable } from './table.ts';

export type { CopyChange, ExportInput, ExportRow, RunCoverage } from './rows.ts';
export { rowFromFinding, rowsFromDiff } from './rows.ts';
export { jsonlLine } from './jsonl.ts';

export const EXPORT_FORMATS = ['table', 'jsonl', 'csv', 'markdown', 'sarif', 'cyclonedx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface FormatInfo {
  contentType: string;
  extension: string;
  render(input: ExportInput, options: RenderOptions): string;
}

export type RenderOptions = CycloneDxOptions;

export const FORMATS: Readonly<Record<ExportFormat, FormatInfo>> = {
  table: { contentType: 'text/plain; charset=utf-8', extension: 'txt', render: formatTable },
  jsonl: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'jsonl', render: formatJsonl },
  csv: { contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv', render: formatCsv },
  markdown: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: formatMarkdown },
  sarif: { contentType: 'application/sarif+json; charset=utf-8', extension: 'sarif', render: formatSarif },
  cyclonedx: { contentType: 'application/vnd.cyclonedx+json; version=1.6; charset=utf-8', extension: 'cdx.json', render: formatCycloneDx },
};

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}

/** Why a format name is not one: for the CLI's UsageError and the API's 400. */
export function unknownFormatMessage(given: string, allowed: readonly string[] = EXPORT_FORMATS): string {
  return `unknown format "${given}": use one of ${allowed.join(', ')}`;
}

export function renderExport(format: ExportFormat, input: ExportInput, options: RenderOptions = {}): string {
  return FORMATS[format].render(input, options);
}
