// SARIF 2.1.0: one result per copy, so code-scanning dashboards and SARIF viewers can list, filter
// and track vendored copies like any other finding. ruleId is the advisory the copy falls under
// (its first, in id order; all are in properties.advisories), else the signature rule that
// recognised it; the location is the file in its store path (an archive's member in
// logicalLocations); version, confidence and evidence are result properties; the run's coverage is
// in run.properties and decides invocation.executionSuccessful.
//
// Library choice: the object is built against the `@types/sarif` types (the DefinitelyTyped
// definitions of the 2.1.0 schema), not a builder. A builder (node-sarif-builder) adds file-writing
// helpers and a class per object but no checking beyond those same types; a typed object literal
// makes every misspelt or misplaced property a compile error at no run-time cost, and the tests
// validate the output against the official OASIS schema (test/fixtures/schemas/sarif-schema-2.1.0.json).
import { pathToFileURL } from 'node:url';
import type { Invocation, Log, ReportingDescriptor, Result } from 'sarif';
import type { CopyChange, ExportInput, ExportRow } from './rows.ts';
import { confidenceScore, copyLocation, TOOL } from './tool.ts';

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** A diff's change as SARIF's comparison with the baseline run. */
const BASELINE: Record<CopyChange, NonNullable<Result['baselineState']>> = {
  appeared: 'new',
  disappeared: 'absent',
  changed: 'updated',
  'newly-affected': 'new',
  'no-longer-affected': 'absent',
};

function ruleIdOf(r: ExportRow): string {
  const advisory = [...r.advisories].sort()[0];
  return advisory ?? r.rule ?? `vendored-${r.library}`;
}

function describe(r: ExportRow): ReportingDescriptor {
  const id = ruleIdOf(r);
  if (r.advisories.length > 0) {
    return { id, name: id, shortDescription: { text: `A copy of a library that falls under ${id}` }, helpUri: `https://osv.dev/vulnerability/${encodeURIComponent(id)}`, defaultConfiguration: { level: 'error' } };
  }
  return { id, shortDescription: { text: `A copy of ${r.library}, recognised by the signature rule ${id}` }, defaultConfiguration: { level: 'warning' } };
}

function message(r: ExportRow): string {
  const version = r.version ?? (r.versionRaw ? `of unknown version ("${r.versionRaw}")` : 'of unknown version');
  const what = r.vendored ? 'a vendored copy' : 'its own package';
  const advisories = r.advisories.length > 0 ? `; falls under ${r.advisories.join(', ')}` : '';
  return `${r.library} ${version} (${what}) in ${r.storePath}${r.file ? `/${r.file}` : ''}: ${r.confidence} confidence, ${r.evidence}${advisories}.`;
}

/** An absolute path as a file: URI; anything else as a relative reference (never resolved against the cwd). */
function fileUri(p: string): string {
  return p.startsWith('/') ? pathToFileURL(p).href : encodeURI(p).replaceAll('?', '%3F').replaceAll('#', '%23');
}

function result(r: ExportRow, ruleIndex: number): Result {
  const loc = copyLocation(r.storePath, r.file);
  return {
    ruleId: ruleIdOf(r),
    ruleIndex,
    level: r.advisories.length > 0 ? 'error' : r.vendored ? 'warning' : 'note',
    rank: Math.round(confidenceScore(r.confidence) * 100),
    message: { text: message(r) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: fileUri(loc.outer) } },
        ...(loc.member !== null ? { logicalLocations: [{ fullyQualifiedName: loc.member, kind: 'module' }] } : {}),
      },
    ],
    // Stable across rebuilds: a version bump changes the store path's hash, not these.
    partialFingerprints: { 'vendorscanCopy/v1': `${r.pname}|${r.file}|${r.library}` },
    ...(r.change ? { baselineState: BASELINE[r.change] } : {}),
    ...(r.triage?.length ? { suppressions: r.triage.map((t) => ({ kind: 'external' as const, status: 'accepted' as const, justification: `${t.reason}${t.until ? ` (until ${t.until})` : ''}` })) } : {}),
    properties: {
      library: r.library,
      version: r.version,
      versionRaw: r.versionRaw,
      confidence: r.confidence,
      evidence: r.evidence,
      rule: r.rule ?? null,
      vendored: r.vendored,
      linkage: r.linkage,
      advisories: r.advisories,
      storePath: r.storePath,
      file: r.file,
      pname: r.pname,
      packageVersion: r.packageVersion,
      attribute: r.attribute,
      maintainers: r.maintainers,
      ...(r.change ? { change: r.change, changeNote: r.changeNote ?? null } : {}),
    },
  };
}

export function sarifLog(input: ExportInput): Log {
  const rules: ReportingDescriptor[] = [];
  const index = new Map<string, number>();
  const results = input.rows.map((r) => {
    const id = ruleIdOf(r);
    let i = index.get(id);
    if (i === undefined) {
      i = rules.push(describe(r)) - 1;
      index.set(id, i);
    }
    return result(r, i);
  });
  const c = input.coverage;
  const invocation: Invocation = { executionSuccessful: c === null || c.complete };
  if (c?.startedAt) invocation.startTimeUtc = c.startedAt;
  if (c?.finishedAt) invocation.endTimeUtc = c.finishedAt;
  if (c?.incomplete) invocation.toolExecutionNotifications = [{ level: 'warning', message: { text: `Incomplete: ${c.incomplete}` } }];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: TOOL.name, version: TOOL.version, semanticVersion: TOOL.version, rules } },
        ...(c !== null ? { automationDetails: { id: `vendorscan/run-${c.runId}/` } } : {}),
        invocations: [invocation],
        results,
        properties: { coverage: c, ...(input.title ? { title: input.title } : {}) },
      },
    ],
  };
}

export function formatSarif(input: ExportInput): string {
  return `${JSON.stringify(sarifLog(input), null, 2)}\n`;
}
