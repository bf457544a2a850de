// How scan results are written as a table (the other formats are services/output/'s), and the
// closing summary with every failure and its reason.
import type { FileFinding } from '../scanner/path-result.ts';
import type { ScanSummary } from '../scanner/scan.ts';
import { formatBytes, formatDuration } from './progress-bar.ts';

/** A finding with the advisories it falls under (ids), as every output carries them. */
export type ReportedFinding = FileFinding & { advisories: string[]; triage?: { reason: string; until: string | null }[] };

export function findingsTable(findings: ReportedFinding[]): string {
  if (findings.length === 0) return 'No findings in the store paths scanned (see the summary for what was covered).\n';
  const rows = [...findings]
    .sort((a, b) => a.library.localeCompare(b.library) || a.storePath.localeCompare(b.storePath) || a.file.localeCompare(b.file))
    .map((f) => [f.library, f.version ?? (f.versionRaw ? `? (${f.versionRaw})` : '?'), f.confidence, f.vendored ? 'yes' : 'no (own)', f.linkage, f.storePath + (f.file ? `/${f.file}` : ''), f.rule, f.advisories.join(',') || '-']);
  const header = ['LIBRARY', 'VERSION', 'CONFIDENCE', 'VENDORED', 'LINKAGE', 'FILE', 'RULE', 'ADVISORIES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** `reused`: paths whose NAR was scanned before with the same ruleset, linked instead of downloaded. */
export function summaryText(s: ScanSummary, reused = 0): string {
  const fresh = s.scanned - reused;
  const lines = [
    `Scanned ${s.scanned} of ${s.total} store paths in ${formatDuration(s.elapsedMs)}` +
      `${reused > 0 ? ` (${reused} reused unchanged: same NAR, same ruleset, results of an earlier scan; ${fresh} downloaded and scanned)` : ''}: ` +
      `${s.notInCache} not in cache, ${s.failed} failed, ${s.findings} findings.`,
    fresh === 0 && reused > 0
      ? 'Read no NAR: every scanned path was reused unchanged.'
      : `Read ${formatBytes(s.narBytes)} of NAR (${formatBytes(s.downloadedBytes)} downloaded) at ${s.narMBps.toFixed(1)} MB/s.`,
  ];
  if (s.failures.length > 0) {
    lines.push('Failed:');
    for (const f of s.failures) lines.push(`  ${f.reason}`);
  }
  lines.push(...warningLines(s.warnings));
  return `${lines.join('\n')}\n`;
}

/** Scanned store paths with per-file warnings: what inside their archives was not read, and why. */
export function warningLines(warnings: { storePath: string; warnings: string[] }[]): string[] {
  if (warnings.length === 0) return [];
  const count = warnings.reduce((n, w) => n + w.warnings.length, 0);
  const lines = [`Warnings (${count} in ${warnings.length} scanned store path${warnings.length === 1 ? '' : 's'}; the rest of each was scanned):`];
  for (const w of warnings) {
    lines.push(`  ${w.storePath}:`);
    for (const line of w.warnings) lines.push(`    ${line}`);
  }
  return lines;
}
