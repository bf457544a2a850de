// `--format` for the commands that list copies (scan, query, diff): one parser naming every format
// the export dispatcher (services/output/) knows, so an unknown or unsupported name is a usage error
// instead of silently printing a table.
import { EXPORT_FORMATS, isExportFormat, type ExportFormat } from '../services/output/index.ts';
import { UsageError } from './usage-error.ts';

export const FORMAT_USAGE = `--format FORMAT      ${EXPORT_FORMATS.join('|')} (default table)`;

export function parseFormatFlag(value: string | undefined, allowed: readonly ExportFormat[] = EXPORT_FORMATS): ExportFormat {
  if (value === undefined) return 'table';
  if (isExportFormat(value) && allowed.includes(value)) return value;
  throw new UsageError(`--format must be one of ${allowed.join(', ')}; got "${value}"`);
}
