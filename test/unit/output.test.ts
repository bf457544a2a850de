// The export formats on fixed rows: SARIF and CycloneDX validate against their official schemas,
// the Markdown matches its golden file, CSV round-trips through a real CSV parser and defuses
// formulas, JSON lines carry the contract's copy row.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, test } from 'vitest';
import { EXPORT_FORMATS, FORMATS, isExportFormat, renderExport, rowFromFinding, type ExportInput, type ExportRow } from '../../services/output/index.ts';
import { CSV_HEADER } from '../../services/output/csv.ts';
import { codeSpan } from '../../services/output/markdown.ts';
import { coverage, hostileRow, rows } from '../helpers/export-rows.ts';
import { cycloneDxValidator, sarifValidator, schemaErrors } from '../helpers/export-schemas.ts';

const pinned = { now: new Date('2026-11-20T06:00:00Z'), serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79' };
const incomplete = { ...coverage, state: 'running', pending: 30, complete: false, incomplete: '30 of 1200 store paths not scanned yet' };
const inputs: [string, ExportInput][] = [
  ['the tracking-issue rows', { rows, coverage, title: 'vendored copies of libwebp <1.3.2' }],
  ['a hostile file name', { rows: [hostileRow], coverage }],
  ['no rows', { rows: [], coverage }],
  ['an unstored scan', { rows, coverage: null }],
  ['an incomplete run', { rows, coverage: incomplete }],
];

interface CdxComponent {
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  components?: CdxComponent[];
  evidence?: { identity: { field: string; confidence: number; methods: { technique: string; value: string }[] }[]; occurrences: { location: string }[] };
}

describe('SARIF 2.1.0', () => {
  test.each(inputs)('%s validates against the official OASIS schema', (_, input) => {
    const doc = JSON.parse(renderExport('sarif', input)) as unknown;
    expect(schemaErrors(sarifValidator(), doc)).toEqual([]);
  });

  test('the validator rejects what the schema forbids', () => {
    const doc = JSON.parse(renderExport('sarif', { rows, coverage })) as { runs: { results: { level: string }[] }[] };
    doc.runs[0]!.results[0]!.level = 'fatal';
    expect(schemaErrors(sarifValidator(), doc).join('\n')).toMatch(/level/);
  });

  test('one result per copy: advisory or signature rule as ruleId, store path and file as location, version, confidence and evidence as properties', () => {
    const log = JSON.parse(renderExport('sarif', { rows, coverage })) as {
      runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: Record<string, unknown>[]; invocations: { executionSuccessful: boolean }[]; properties: { coverage: unknown } }[];
    };
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('vendorscan');
    expect(run.results).toHaveLength(rows.length);
    expect(run.results.map((r) => r['ruleId'])).toEqual(['CVE-2023-4863', 'CVE-2023-44488', 'libwebp_symbols', 'CVE-2023-1999']);
    expect(run.results.map((r) => r['level'])).toEqual(['error', 'error', 'warning', 'error']);
    for (const r of run.results) expect(run.tool.driver.rules[r['ruleIndex'] as number]?.id).toBe(r['ruleId']);
    const jar = run.results[2] as { locations: { physicalLocation: { artifactLocation: { uri: string } }; logicalLocations: { fullyQualifiedName: string }[] }[]; properties: Record<string, unknown> };
    expect(jar.locations[0]!.physicalLocation.artifactLocation.uri).toBe('file:///nix/store/phy5k4x9x1269b4f30667s1zqj5c20gm-signal-desktop-6.30.1/share/app.jar');
    expect(jar.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe('lib/libwebp.so');
    expect(jar.properties).toMatchObject({ version: null, versionRaw: '1.3.x-dev', confidence: 'low', evidence: 'symbol WebPDecode', file: 'share/app.jar!/lib/libwebp.so' });
    expect(run.properties.coverage).toEqual(coverage);
    expect(run.invocations[0]!.executionSuccessful).toBe(true);
    const partial = JSON.parse(renderExport('sarif', { rows, coverage: incomplete })) as { runs: { invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string } }[] }[] }[] };
    expect(partial.runs[0]!.invocations[0]!.executionSuccessful).toBe(false);
    expect(partial.runs[0]!.invocations[0]!.toolExecutionNotifications[0]!.message.text).toContain('30 of 1200 store paths not scanned yet');
  });
});

describe('CycloneDX 1.6', () => {
  test.each(inputs)('%s validates against the official bom-1.6 schema', (_, input) => {
    const doc = JSON.parse(renderExport('cyclonedx', input, pinned)) as unknown;
    expect(schemaErrors(cycloneDxValidator(), doc)).toEqual([]);
  });

  test('the validator rejects what the schema forbids', () => {
    const doc = JSON.parse(renderExport('cyclonedx', { rows, coverage }, pinned)) as { components: CdxComponent[] };
    doc.components[0]!.components![0]!.evidence!.identity[0]!.confidence = 2;
    expect(schemaErrors(cycloneDxValidator(), doc).join('\n')).toMatch(/confidence|must be <= 1/);
  });

  test('each copy is a library component of its package, with purl, occurrences and identity evidence', () => {
    const bom = JSON.parse(renderExport('cyclonedx', { rows, coverage }, pinned)) as {
      serialNumber: string;
      metadata: { timestamp: string; component: { name: string } };
      components: CdxComponent[];
      dependencies: { ref: string; dependsOn?: string[] }[];
      vulnerabilities: { id: string; affects: { ref: string }[] }[];
    };
    expect(bom.serialNumber).toBe(pinned.serialNumber);
    expect(bom.metadata.component.name).toBe('channel nixos-unstable');
    const electron = bom.components.find((c) => c.name === 'electron')!;
    expect(electron.version).toBe('25.8.0');
    const webp = electron.components!.find((c) => c.name === 'libwebp')!;
    expect(webp).toMatchObject({ version: '1.3.0', purl: 'pkg:generic/libwebp@1.3.0' });
    expect(webp.evidence!.occurrences).toEqual([{ location: '/nix/store/0yz74dk9z0g5qdxsr1p11vgpvsd64yyr-electron-25.8.0/libexec/electron/electron' }]);
    expect(webp.evidence!.identity.map((i) => [i.field, i.confidence, i.methods[0]!.technique, i.methods[0]!.value])).toEqual([
      ['name', 0.9, 'binary-analysis', 'YARA rule libwebp_version_string'],
      ['version', 0.9, 'binary-analysis', 'version string "libwebp 1.3.0"'],
    ]);
    expect(bom.dependencies.find((d) => d.ref === electron['bom-ref'])!.dependsOn).toContain(webp['bom-ref']);
    const unknown = bom.components.find((c) => c.name === 'signal-desktop')!.components![0]!;
    expect(unknown.version).toBeUndefined();
    expect(unknown.purl).toBe('pkg:generic/libwebp');
    expect(unknown.evidence!.identity.map((i) => [i.field, i.confidence])).toEqual([['name', 0.3]]);
    expect(bom.vulnerabilities.find((v) => v.id === 'CVE-2023-4863')!.affects.map((a) => a.ref)).toContain(webp['bom-ref']);
  });
});

describe('Markdown', () => {
  test('matches the golden tracking-issue file', () => {
    const file = new URL('../fixtures/golden/tracking-issue.md', import.meta.url);
    const md = renderExport('markdown', { rows, coverage, title: 'vendored copies of libwebp <1.3.2' });
    // A deliberate change to the layout: UPDATE_GOLDEN=1 rewrites the file; review its diff.
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, md);
    expect(md).toBe(readFileSync(file, 'utf8'));
  });

  test('untrusted file names stay inside code spans; handles that are not GitHub logins are not mentions', () => {
    const md = renderExport('markdown', { rows: [{ ...hostileRow, maintainers: ['ok-handle', '@evil', 'x y'] }], coverage });
    const line = md.split('\n').find((l) => l.startsWith('- [ ]'))!;
    expect(line).toContain('``=cmd|\' /C calc\'!A0, "quoted"\\x0anext `tick` *bold* @everyone``');
    expect(line).toContain('@ok-handle `@evil` `x y`');
    expect(md.split('\n').filter((l) => l.startsWith('- [ ]'))).toHaveLength(1);
    expect(codeSpan('`a`')).toBe('`` `a` ``');
  });

  test('no rows still says what was covered', () => {
    expect(renderExport('markdown', { rows: [], coverage })).toBe(
      'Coverage: Run 7: channel nixos-unstable (b0d36bd0a420), finished 2026-11-20T05:12:09.000Z, ruleset 3f9a0c1d2e4b; 1200 store paths: 1150 scanned, 40 reused unchanged, 8 not in cache, 2 failed.\n\nNo copies.\n',
    );
  });
});

describe('CSV', () => {
  const all: ExportRow[] = [...rows, hostileRow];
  const csv = renderExport('csv', { rows: all, coverage });

  test('round-trips through csv-parse: a header row, one record per copy, every field back', () => {
    const records = parse(csv, { relax_column_count: false }) as string[][];
    expect(records[0]).toEqual([...CSV_HEADER]);
    expect(records).toHaveLength(all.length + 1);
    const byName = (rec: string[]): Record<string, string> => Object.fromEntries(CSV_HEADER.map((h, i) => [h, rec[i] ?? '']));
    const electron = byName(records[2]!);
    expect(electron).toMatchObject({ store_path: rows[1]!.storePath, library: 'libvpx', version: '1.13.0', evidence: 'version string "v1.13.0"', advisories: 'CVE-2023-5217 CVE-2023-44488', maintainers: 'alice bob-2', vendored: 'true' });
    const evil = byName(records[5]!);
    // Formula-looking cells come back with the apostrophe that defuses them, and nothing else changed.
    expect(evil['file']).toBe(`'${hostileRow.file}`);
    expect(evil['evidence']).toBe(`'${hostileRow.evidence}`);
    expect(evil['version_raw']).toBe("'+1.2.13");
    expect(evil['pname']).toBe('evil');
  });

  test('RFC 4180: CRLF records; no cell starts with = + - @', () => {
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[0]).toBe(CSV_HEADER.join(','));
    const cells = (parse(csv) as string[][]).flat();
    expect(cells.filter((c) => /^[=+\-@]/.test(c))).toEqual([]);
  });
});

test('JSON lines: the contract copy row, with its run, one per line', () => {
  const lines = renderExport('jsonl', { rows, coverage }).trimEnd().split('\n');
  expect(lines).toHaveLength(rows.length);
  expect(JSON.parse(lines[0]!)).toEqual({ run: 7, ...rows[0] });
});

test('the registry: every format renders, names its media type, and unknown names are refused', () => {
  for (const f of EXPORT_FORMATS) {
    expect(renderExport(f, { rows, coverage }, pinned).length).toBeGreaterThan(0);
    expect(FORMATS[f].contentType).toMatch(/^[a-z]+\/[a-z0-9.+-]+/);
  }
  expect(isExportFormat('csv')).toBe(true);
  expect(isExportFormat('xml')).toBe(false);
  expect(isExportFormat('toString')).toBe(false);
});

test('a scan finding becomes a copy row: package name and version from the store path, advisories kept, no attribution', () => {
  const finding = {
    storePath: '/nix/store/0yz74dk9z0g5qdxsr1p11vgpvsd64yyr-electron-25.8.0',
    file: 'libexec/electron/electron',
    library: 'libwebp',
    version: '1.3.0',
    versionRaw: null,
    rule: 'libwebp_version_string',
    confidence: 'high' as const,
    evidence: 'version string',
    vendored: true,
    linkage: 'copy' as const,
    linkageReason: 'defines WebPGetDecoderVersion',
    matches: [],
  };
  expect(rowFromFinding({ ...finding, advisories: ['CVE-2023-4863'] })).toEqual({
    ...finding,
    matches: undefined,
    pname: 'electron',
    packageVersion: '25.8.0',
    advisories: ['CVE-2023-4863'],
    attribute: null,
    maintainers: [],
    homepage: null,
    position: null,
    links: { search: null, hydra: null },
  });
  expect(rowFromFinding(finding).advisories).toEqual([]);
});
