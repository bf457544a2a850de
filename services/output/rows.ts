// What every export format is given: plain copy rows (the shared contract's copy row, plus the rule
// that recognised the copy when the caller has it) and the coverage of the run they come from. The
// formatters are pure functions of this, so `scan`, `query`, `diff` and the API all feed them the
// same way; the mappers below turn a scan's findings and a run diff into copy rows.
import type { FileFinding } from '../../signatures/finding.ts';
import { storePathName } from '../../nix/store-path.ts';
import type { RunCoverage } from '../../store/coverage.ts';
import type { RunDiff } from '../decisions/diff.ts';
import type { Copy } from '../decisions/copies.ts';

/** The coverage of the run an answer comes from (the contract's RunCoverage). */
export type { RunCoverage } from '../../store/coverage.ts';

/**
 * One copy of a library as the exports take it: the contract's copy row (services/decisions' Copy:
 * the stored copy with advisories, attribution and, when asked for, the triage entries that would
 * hide it), plus the signature rule that recognised it when the caller has it (SARIF's ruleId) and,
 * in a diff, what happened to it.
 */
export interface ExportRow extends Copy {
  rule?: string;
  /** In a diff: what happened to the copy, and in words from what (the version before, the advisories). */
  change?: CopyChange;
  changeNote?: string;
}

export type CopyChange = 'appeared' | 'disappeared' | 'changed' | 'newly-affected' | 'no-longer-affected';

export interface ExportInput {
  rows: ExportRow[];
  /** null for a scan that was not stored (`scan --no-store`): there is no run to name. */
  coverage: RunCoverage | null;
  /** What the rows answer, in words ("vendored copies of libwebp <1.3.2"); a heading where the format has one. */
  title?: string;
}

/** Missing attribution and advisories, as the contract spells them without a packages file. */
function unattributed(storePath: string): Pick<ExportRow, 'pname' | 'packageVersion' | 'advisories' | 'attribute' | 'maintainers' | 'homepage' | 'position' | 'links'> {
  const { pname, version } = storePathName(storePath);
  return { pname, packageVersion: version, advisories: [], attribute: null, maintainers: [], homepage: null, position: null, links: { search: null, hydra: null } };
}

/** A scan's finding as a row; with the advisories it falls under (and triage) when the caller has judged it. */
export function rowFromFinding(f: FileFinding & Partial<Pick<ExportRow, 'advisories' | 'triage'>>): ExportRow {
  return {
    ...unattributed(f.storePath),
    advisories: f.advisories ?? [],
    storePath: f.storePath,
    file: f.file,
    library: f.library,
    version: f.version,
    versionRaw: f.versionRaw,
    confidence: f.confidence,
    evidence: f.evidence,
    vendored: f.vendored,
    linkage: f.linkage,
    linkageReason: f.linkageReason,
    rule: f.rule,
    ...(f.triage ? { triage: f.triage } : {}),
  };
}


/** A run diff as one list of rows, each saying what changed (`vendorscan diff --format`, `GET /v1/diff?format=`). */
export function rowsFromDiff(d: RunDiff): ExportRow[] {
  const where = (c: ExportRow): string => `${c.library} ${c.version ?? c.versionRaw ?? '(version unknown)'} in ${c.storePath}${c.file ? `/${c.file}` : ''}`;
  return [
    ...d.appeared.map((c): ExportRow => ({ ...c, change: 'appeared' })),
    ...d.disappeared.map((c): ExportRow => ({ ...c, change: 'disappeared' })),
    ...d.changed.map((x): ExportRow => ({ ...x.after, change: 'changed', changeNote: `was ${where(x.before)}` })),
    ...d.newlyAffected.map((x): ExportRow => ({ ...x.copy, change: 'newly-affected', changeNote: x.advisories.join(', ') })),
    ...d.noLongerAffected.map((x): ExportRow => ({ ...x.copy, change: 'no-longer-affected', changeNote: x.advisories.join(', ') })),
  ];
}
