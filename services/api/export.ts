// Answers in an export format: the routes that list copies (vendors, advisories' affected copies)
// accept `format=` and send the export dispatcher's text (services/output/) with its media type and
// a download file name, under the coverage of the run they answer from.
import type { FastifyReply } from 'fastify';
import { EXPORT_FORMATS, FORMATS, renderExport, type ExportFormat, type ExportRow } from '../output/index.ts';
import type { RunCoverage } from '../../store/coverage.ts';

/** Every export but the terminal table. */
export const API_EXPORT_FORMATS = EXPORT_FORMATS.filter((f): f is Exclude<ExportFormat, 'table'> => f !== 'table');
export type ApiExportFormat = (typeof API_EXPORT_FORMATS)[number];

/** The `format` query parameter of the routes that list copies. */
export const exportFormatParam = {
  type: 'string',
  enum: ['json', ...API_EXPORT_FORMATS],
  default: 'json',
  description: 'json, or an export: jsonl, csv, markdown, sarif (2.1.0), cyclonedx (1.6)',
} as const;

export function sendExport(
  reply: FastifyReply,
  format: ApiExportFormat,
  answer: { coverage: RunCoverage; rows: ExportRow[]; total: number; title: string; filename: string },
): FastifyReply {
  const info = FORMATS[format];
  const name = answer.filename.replace(/[^A-Za-z0-9._-]/g, '_');
  return reply
    .type(info.contentType)
    .header('content-disposition', `attachment; filename="${name}.${info.extension}"`)
    // The rows are one page (limit/offset, as in JSON); this says how many there are in all.
    .header('x-total-count', String(answer.total))
    .send(renderExport(format, { rows: answer.rows, coverage: answer.coverage, title: answer.title }));
}
