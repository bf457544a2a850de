// Rule hits in one file → one finding per library, with the strongest version evidence: a
// version beats none, then higher confidence wins. Every contributing rule is kept.
import type { RuleHit } from '../yara/file-matcher.ts';
import { signatureMeta, type Confidence, type MetaValues } from './signature-meta.ts';
import { readVersion } from './version-reader.ts';

export interface Finding {
  library: string;
  version: string | null;
  versionRaw: string | null;
  rule: string;
  rules: string[];
  confidence: Confidence;
  evidence: string;
}

const RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

function strength(f: Finding): number {
  return (f.version !== null ? 10 : f.versionRaw !== null ? 5 : 0) + RANK[f.confidence];
}

/** `metas`: rule name → meta as written in the rule source (see loader.ts ruleMetas). */
export function toFindings(hits: RuleHit[], metas: Map<string, MetaValues>): Finding[] {
  const best = new Map<string, Finding>();
  for (const hit of hits) {
    const meta = signatureMeta(metas.get(hit.rule) ?? hit.meta, null);
    const { version, raw } = readVersion(meta, hit.strings);
    const candidate: Finding = {
      library: meta.library,
      version,
      versionRaw: raw,
      rule: hit.rule,
      rules: [hit.rule],
      confidence: meta.confidence,
      evidence: meta.evidence,
    };
    const current = best.get(meta.library);
    if (!current) best.set(meta.library, candidate);
    else {
      const rules = [...current.rules, hit.rule];
      best.set(meta.library, strength(candidate) > strength(current) ? { ...candidate, rules } : { ...current, rules });
    }
  }
  return [...best.values()];
}
