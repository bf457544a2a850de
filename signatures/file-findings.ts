// Turns the rule hits of one file into findings: library signatures are merged per library with
// their version read out (signatures/findings.ts); ad-hoc rules (needles, hex, user YARA) stay one
// finding per rule, since each answers its own question.
import type { RuleHit } from '../yara/file-matcher.ts';
import { toFindings } from './findings.ts';
import { storePathName } from '../nix/store-path.ts';
import { printable } from '../nix/printable.ts';
import { isVendored } from './vendored.ts';
import type { MetaValues } from './signature-meta.ts';
import type { FileLinkage } from './file-linkage.ts';
import type { FileFinding, MatchedString, RuleMatchRecord, Confidence } from './finding.ts';

export const ADHOC_LIBRARY = 'adhoc';

const UNCHECKED = { linkage: 'unknown', reason: 'linkage not checked' } as const;

/** `linkage`: the file's verdict per library (file-linkage.ts); a library without one is unknown. */
export function fileFindings(storePath: string, file: string, rawHits: RuleHit[], metas: Map<string, MetaValues>, linkage?: FileLinkage): FileFinding[] {
  const pname = storePathName(storePath).pname;
  const hits = rawHits.map((h) => ({ ...h, meta: metas.get(h.rule) ?? h.meta }));
  const signatureHits = hits.filter((h) => h.meta['library'] !== undefined && h.meta['library'] !== ADHOC_LIBRARY);
  const adhocHits = hits.filter((h) => !signatureHits.includes(h));
  const out: FileFinding[] = [];
  for (const f of toFindings(signatureHits, metas)) {
    out.push({
      storePath,
      file,
      library: f.library,
      version: f.version,
      versionRaw: f.versionRaw,
      rule: f.rule,
      confidence: f.confidence,
      evidence: f.evidence,
      vendored: isVendored(f.library, pname),
      linkage: (linkage?.[f.library] ?? UNCHECKED).linkage,
      linkageReason: (linkage?.[f.library] ?? UNCHECKED).reason,
      matches: signatureHits.filter((h) => h.meta['library'] === f.library).map(toRecord),
    });
  }
  for (const h of adhocHits) {
    out.push({
      storePath,
      file,
      library: ADHOC_LIBRARY,
      version: null,
      versionRaw: null,
      rule: h.rule,
      confidence: asConfidence(h.meta['confidence']),
      evidence: typeof h.meta['evidence'] === 'string' ? h.meta['evidence'] : 'rule',
      vendored: true,
      linkage: 'unknown',
      linkageReason: 'ad-hoc search: linkage is not checked',
      matches: [toRecord(h)],
    });
  }
  return out;
}

function asConfidence(v: unknown): Confidence {
  return v === 'medium' || v === 'low' ? v : 'high';
}

function toRecord(h: RuleHit): RuleMatchRecord {
  return {
    rule: h.rule,
    namespace: h.namespace,
    tags: h.tags,
    meta: h.meta,
    strings: h.strings.map(
      (s): MatchedString => ({ identifier: s.identifier, offset: s.offset, length: s.length, text: printable(s.data) }),
    ),
  };
}
