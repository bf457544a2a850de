// A copy as every answer lists it (the shared contract's Copy row): the stored finding, the
// package it was found in (name and version from the store path; attribute, maintainers, homepage,
// position and links from the packages file), the advisories it falls under and, when the answer
// includes suppressed copies, the triage entries that would hide it.
import type { CopyRow } from '../../store/copies.ts';
import { evaluateCopies, type CopyVerdict } from '../../advisories/evaluate.ts';
import { triageOf, utcDay, type TriageEntry } from '../../advisories/triage.ts';
import { packageLinks } from '../../nix/packages-file.ts';
import { storePathName } from '../../nix/store-path.ts';
import type { DecisionContext } from './context.ts';

/** The stored copy (without the rule that decided its version), plus what the answers add. */
export interface Copy extends Omit<CopyRow, 'rule' | 'linkageReason'> {
  /** Why the linkage is what it is ("NEEDs libssl.so.3", "defines zlibVersion"); absent where the row was made without it. */
  linkageReason?: string;
  /** OSV ids of the advisories the copy falls under. */
  advisories: string[];
  attribute: string | null;
  maintainers: string[];
  homepage: string | null;
  position: string | null;
  links: { search: string | null; hydra: string | null };
  /** Only in answers that include suppressed copies: the triage entries that would hide this one. */
  triage?: { reason: string; until: string | null }[];
}

export interface JudgedCopy {
  row: CopyRow;
  copy: Copy;
  verdict: CopyVerdict;
}

/** Copies with advisories and attribution, in the order of the rows. `channel` picks the search/Hydra links. */
export function judgeCopies(rows: readonly CopyRow[], ctx: DecisionContext, channel: string | null): JudgedCopy[] {
  const verdicts = evaluateCopies(rows, ctx.advisories);
  return rows.map((r, i) => {
    const verdict = verdicts[i] ?? { advisories: [], cannotTell: [] };
    const attribution = ctx.packages?.lookup(r.storePath) ?? null;
    return {
      row: r,
      verdict,
      copy: {
        storePath: r.storePath,
        pname: r.pname,
        packageVersion: r.packageVersion,
        file: r.file,
        library: r.library,
        version: r.version,
        versionRaw: r.versionRaw,
        confidence: r.confidence,
        evidence: r.evidence,
        vendored: r.vendored,
        linkage: r.linkage,
        linkageReason: r.linkageReason,
        advisories: verdict.advisories,
        attribute: attribution?.attribute ?? null,
        maintainers: attribution?.maintainers ?? [],
        homepage: attribution?.homepage ?? null,
        position: attribution?.position ?? null,
        links: packageLinks(attribution, channel),
      },
    };
  });
}

function triageNote(entries: TriageEntry[]): { reason: string; until: string | null }[] {
  return entries.map((e) => ({ reason: e.reason, until: e.until }));
}

/**
 * Applies the triage file: copies it suppresses (under `advisory`, or as a whole when null) leave
 * the list unless `includeSuppressed`, in which case they stay with their `triage` notes.
 */
export function applyTriage(copies: readonly JudgedCopy[], ctx: DecisionContext, advisory: string | null, includeSuppressed: boolean): { kept: JudgedCopy[]; suppressed: number } {
  if (ctx.triage.length === 0) return { kept: [...copies], suppressed: 0 };
  const today = utcDay(ctx.now());
  const kept: JudgedCopy[] = [];
  let suppressed = 0;
  for (const j of copies) {
    const entries = triageOf(ctx.triage, j.copy, advisory, j.verdict.advisories, today);
    if (entries.length === 0) kept.push(j);
    else {
      suppressed++;
      if (includeSuppressed) kept.push({ ...j, copy: { ...j.copy, triage: triageNote(entries) } });
    }
  }
  return { kept, suppressed };
}

/** The triage entries that hide a finding as a whole (given the advisories it falls under); [] when none. */
export function findingTriage(ctx: DecisionContext, f: { storePath: string; library: string; advisories: readonly string[] }): { reason: string; until: string | null }[] {
  if (ctx.triage.length === 0) return [];
  const { pname, version } = storePathName(f.storePath);
  return triageNote(triageOf(ctx.triage, { storePath: f.storePath, pname, packageVersion: version, library: f.library }, null, f.advisories, utcDay(ctx.now())));
}
