// The tool's name and version as the SARIF and CycloneDX documents name their producer; read once
// from package.json at load, so the formatters stay pure.
import pkg from '../../package.json' with { type: 'json' };

export const TOOL = { name: 'vendorscan', version: pkg.version } as const;

/** The three confidence words as the 0..1 numbers CycloneDX evidence and SARIF ranks want. */
export const CONFIDENCE_SCORE: Readonly<Record<string, number>> = { high: 0.9, medium: 0.6, low: 0.3 };

export function confidenceScore(confidence: string): number {
  return CONFIDENCE_SCORE[confidence] ?? 0.1;
}

/** The file a copy is in, as an absolute path; for an archive member, the archive and the member apart. */
export function copyLocation(storePath: string, file: string): { outer: string; member: string | null; full: string } {
  const full = file ? `${storePath}/${file}` : storePath;
  const bang = file.indexOf('!/');
  if (bang < 0) return { outer: full, member: null, full };
  return { outer: `${storePath}/${file.slice(0, bang)}`, member: file.slice(bang + 2), full };
}
