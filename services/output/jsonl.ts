// JSON lines: one copy row per line, each naming its run, so that lines from several answers can be
// concatenated and still say where they come from.
import type { ExportInput, ExportRow } from './rows.ts';

/** `extra` adds fields a caller has beyond the copy row (a scan's matched strings). */
export function jsonlLine(row: ExportRow, runId: number | null, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ run: runId, ...row, ...extra })}\n`;
}

export function formatJsonl(input: ExportInput): string {
  return input.rows.map((r) => jsonlLine(r, input.coverage?.runId ?? null)).join('');
}
