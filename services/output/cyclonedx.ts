// CycloneDX 1.6 JSON, made with the OWASP CycloneDX JavaScript library (@cyclonedx/cyclonedx-library,
// the project's own, which keeps up with every spec version): each store path's package is a
// component, and each vendored copy in it a nested `library` component (name = the library, its
// version, `pkg:generic/NAME@VERSION` as purl) that the package depends on; the advisories a copy
// falls under are `vulnerabilities` affecting it; the run's coverage is in metadata properties.
//
// The library models CycloneDX evidence only as licenses and copyright, so each copy's
// `evidence.occurrences` (the file, `!/` for an archive member) and `evidence.identity` (how it
// was recognised: the field, a 0..1 confidence mapped from high/medium/low, methods with
// technique `binary-analysis` and the rule / evidence as value) are added to the library's
// serialised output by bom-ref. The tests validate the whole document against the official
// bom-1.6 schema (test/fixtures/schemas/).
//
// The library (some 160 CommonJS modules: ~110 ms and ~20 MB to load) is required on the first BOM
// made, not by every command that could make one (`scan` imports the formats).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Cdx from '@cyclonedx/cyclonedx-library';
import type { ExportInput, ExportRow } from './rows.ts';
import { confidenceScore, copyLocation, TOOL } from './tool.ts';

export interface CycloneDxOptions {
  /** Defaults to now; tests pin it. */
  now?: Date;
  /** urn:uuid:…; defaults to a random one, as the spec wants a new serial number per BOM. */
  serialNumber?: string;
}

interface IdentityEvidence {
  field: 'name' | 'version';
  confidence: number;
  concludedValue: string;
  methods: { technique: 'binary-analysis'; confidence: number; value: string }[];
}

interface CopyEvidence {
  identity: IdentityEvidence[];
  occurrences: { location: string; additionalContext?: string }[];
}

/** A generic purl (no package registry has these copies): pkg:generic/NAME[@VERSION]. */
export function genericPurl(name: string, version: string | null): string {
  return `pkg:generic/${encodeURIComponent(name)}${version !== null ? `@${encodeURIComponent(version)}` : ''}`;
}

function evidenceOf(r: ExportRow): CopyEvidence {
  const score = confidenceScore(r.confidence);
  const how = r.rule ? `YARA rule ${r.rule}` : `signature for ${r.library}`;
  const identity: IdentityEvidence[] = [{ field: 'name', confidence: score, concludedValue: r.library, methods: [{ technique: 'binary-analysis', confidence: score, value: how }] }];
  if (r.version !== null) identity.push({ field: 'version', confidence: score, concludedValue: r.version, methods: [{ technique: 'binary-analysis', confidence: score, value: r.evidence }] });
  const loc = copyLocation(r.storePath, r.file);
  return { identity, occurrences: [{ location: loc.full, ...(loc.member !== null ? { additionalContext: `member ${loc.member} of the archive ${loc.outer}` } : {}) }] };
}

let library: typeof Cdx | null = null;
function cdx(): typeof Cdx {
  library ??= createRequire(import.meta.url)('@cyclonedx/cyclonedx-library') as typeof Cdx;
  return library;
}

function props(entries: [string, string | null | undefined][]): Cdx.Models.PropertyRepository {
  const { Models } = cdx();
  const repo = new Models.PropertyRepository();
  for (const [name, value] of entries) if (value !== null && value !== undefined && value !== '') repo.add(new Models.Property(name, value));
  return repo;
}

export function formatCycloneDx(input: ExportInput, options: CycloneDxOptions = {}): string {
  const { Enums, Models, Serialize, Spec } = cdx();
  const c = input.coverage;
  const bom = new Models.Bom({ serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = options.now ?? new Date();
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, TOOL.name, { version: TOOL.version }));
  const scope = new Models.Component(Enums.ComponentType.Platform, c ? c.scope.label : 'store paths (unstored scan)', {
    bomRef: 'vendorscan-scope',
    ...(c?.scope.revision ? { version: c.scope.revision } : {}),
  });
  bom.metadata.component = scope;
  if (c) {
    bom.metadata.properties = props([
      ['vendorscan:run', String(c.runId)],
      ['vendorscan:ruleset', c.rulesetDigest],
      ['vendorscan:coverage:total', String(c.total)],
      ['vendorscan:coverage:scanned', String(c.scanned)],
      ['vendorscan:coverage:reused', String(c.reused)],
      ['vendorscan:coverage:not-in-cache', String(c.notInCache)],
      ['vendorscan:coverage:failed', String(c.failed)],
      ['vendorscan:coverage:pending', String(c.pending)],
      ['vendorscan:coverage:complete', String(c.complete)],
      ['vendorscan:coverage:incomplete', c.incomplete],
    ]);
  }

  const packages = new Map<string, Cdx.Models.Component>();
  const evidence = new Map<string, CopyEvidence>();
  const vulnerabilities = new Map<string, Cdx.Models.Vulnerability.Vulnerability>();
  const used = new Set<string>();
  for (const r of input.rows) {
    let pkg = packages.get(r.storePath);
    if (!pkg) {
      const externalReferences = new Models.ExternalReferenceRepository();
      if (r.homepage) externalReferences.add(new Models.ExternalReference(r.homepage, Enums.ExternalReferenceType.Website));
      pkg = new Models.Component(Enums.ComponentType.Application, r.pname, {
        bomRef: r.storePath,
        ...(r.packageVersion !== null ? { version: r.packageVersion } : {}),
        externalReferences,
        properties: props([
          ['vendorscan:store-path', r.storePath],
          ['vendorscan:attribute', r.attribute],
          ['vendorscan:position', r.position],
          ['vendorscan:maintainers', r.maintainers.join(' ')],
        ]),
      });
      packages.set(r.storePath, pkg);
      bom.components.add(pkg);
      scope.dependencies.add(pkg.bomRef);
    }
    let ref = `${r.storePath}/${r.file}#${r.library}`;
    for (let n = 2; used.has(ref); n++) ref = `${r.storePath}/${r.file}#${r.library}~${n}`;
    used.add(ref);
    const copy = new Models.Component(Enums.ComponentType.Library, r.library, {
      bomRef: ref,
      ...(r.version !== null ? { version: r.version } : {}),
      purl: genericPurl(r.library, r.version),
      properties: props([
        ['vendorscan:file', r.file],
        ['vendorscan:version-raw', r.versionRaw],
        ['vendorscan:confidence', r.confidence],
        ['vendorscan:evidence', r.evidence],
        ['vendorscan:rule', r.rule],
        ['vendorscan:vendored', String(r.vendored)],
        ['vendorscan:linkage', r.linkage],
        ['vendorscan:suppressed-by', (r.triage ?? []).map((t) => t.reason).join('; ')],
        ['vendorscan:change', r.change],
        ['vendorscan:change-note', r.changeNote],
      ]),
    });
    pkg.components.add(copy);
    pkg.dependencies.add(copy.bomRef);
    evidence.set(ref, evidenceOf(r));
    for (const id of r.advisories) {
      let v = vulnerabilities.get(id);
      if (!v) {
        v = new Models.Vulnerability.Vulnerability({ bomRef: `advisory:${id}`, id, source: new Models.Vulnerability.Source({ name: 'OSV', url: `https://osv.dev/vulnerability/${encodeURIComponent(id)}` }) });
        vulnerabilities.set(id, v);
        bom.vulnerabilities.add(v);
      }
      v.affects.add(new Models.Vulnerability.Affect(copy.bomRef));
    }
  }

  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  const doc = JSON.parse(serializer.serialize(bom, { sortLists: true })) as { components?: CdxComponent[] };
  addEvidence(doc.components ?? [], evidence);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

interface CdxComponent {
  'bom-ref'?: string;
  components?: CdxComponent[];
  evidence?: Record<string, unknown>;
}

function addEvidence(components: CdxComponent[], evidence: Map<string, CopyEvidence>): void {
  for (const component of components) {
    const e = component['bom-ref'] !== undefined ? evidence.get(component['bom-ref']) : undefined;
    if (e) component.evidence = { ...component.evidence, ...e };
    addEvidence(component.components ?? [], evidence);
  }
}
