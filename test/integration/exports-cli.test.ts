// `--format` end to end on the bundled demo cache: `scan` and `query` write SARIF and CycloneDX
// documents that validate against the official schemas, CSV and Markdown with one entry per copy,
// and refuse a format they do not know by naming the ones they do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { cycloneDxValidator, sarifValidator, schemaErrors } from '../helpers/export-schemas.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');
const demo = path.join(repo, 'examples', 'demo-cache');
const dataDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-exports-data-'));
const paths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').trim().split('\n');

function vendorscan(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', input: '', env: { ...process.env, VENDORSCAN_DATA_DIR: dataDir }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scan = (...args: string[]): { code: number; stdout: string; stderr: string } => vendorscan(['scan', '--cache', demo, ...paths.flatMap((p) => ['--path', p]), ...args]);

interface SarifLog {
  version: string;
  runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[]; properties: Record<string, unknown> }[]; properties: { coverage: { runId: number; total: number } | null } }[];
}

describe('scan --format', () => {
  let sarifOut: { code: number; stdout: string; stderr: string };
  beforeAll(() => {
    sarifOut = scan('--format', 'sarif');
  });

  it('sarif: a valid SARIF 2.1.0 log, one result per copy, with the stored run as coverage', () => {
    expect(sarifOut.code).toBe(0);
    const log = JSON.parse(sarifOut.stdout) as SarifLog;
    expect(schemaErrors(sarifValidator(), log)).toEqual([]);
    const run = log.runs[0]!;
    expect(run.results.map((r) => `${r.properties['library']}@${r.properties['version']}`).sort()).toEqual(['libpng@1.6.39', 'libwebp@1.2.4']);
    const webp = run.results.find((r) => r.properties['library'] === 'libwebp')!;
    expect(webp.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/^file:\/\/\/nix\/store\/[0-9a-z]{32}-libwebp-1\.2\.4\/lib\/libwebp\.so\.7$/);
    expect(webp.properties).toMatchObject({ confidence: 'high', vendored: false, pname: 'libwebp', packageVersion: '1.2.4', advisories: ['CVE-2023-1999', 'CVE-2023-4863'] });
    expect(webp.ruleId).toBe('CVE-2023-1999');
    const runId = Number(/Stored as run (\d+)/.exec(sarifOut.stderr)?.[1]);
    expect(run.properties.coverage).toMatchObject({ runId, total: 3 });
  });

  it('cyclonedx: a valid CycloneDX 1.6 BOM, each copy a component of its package with evidence', () => {
    const r = scan('--format', 'cyclonedx');
    expect(r.code).toBe(0);
    const bom = JSON.parse(r.stdout) as { specVersion: string; components: { name: string; version: string; components: { name: string; purl: string; evidence: { occurrences: { location: string }[] } }[] }[] };
    expect(schemaErrors(cycloneDxValidator(), bom)).toEqual([]);
    expect(bom.specVersion).toBe('1.6');
    const webp = bom.components.find((c) => c.name === 'libwebp')!;
    expect(webp.version).toBe('1.2.4');
    expect(webp.components[0]!.purl).toBe('pkg:generic/libwebp@1.2.4');
    expect(webp.components[0]!.evidence.occurrences[0]!.location).toMatch(/-libwebp-1\.2\.4\/lib\/libwebp\.so\.7$/);
  });

  it('sarif without a results store: still valid, with no run to name', () => {
    const r = scan('--format', 'sarif', '--no-store');
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout) as SarifLog;
    expect(schemaErrors(sarifValidator(), log)).toEqual([]);
    expect(log.runs[0]!.results).toHaveLength(2);
    expect(log.runs[0]!.properties.coverage).toBeNull();
  });

  it('csv and markdown: one record and one checkbox line per copy', () => {
    const csv = parse(scan('--format', 'csv').stdout) as string[][];
    expect(csv).toHaveLength(3);
    expect(csv.slice(1).map((r) => r[5]).sort()).toEqual(['libpng', 'libwebp']);
    const md = scan('--format', 'markdown').stdout;
    expect(md).toMatch(/^Coverage: Run \d+: /);
    expect(md.split('\n').filter((l) => l.startsWith('- [ ] '))).toEqual([
      expect.stringMatching(/^- \[ \] `libpng` 1\.6\.39: libpng 1\.6\.39 in `lib\/libpng16\.so\.16` \(CVE-2025-64720, CVE-2025-65018\) \(its own package\)$/),
      expect.stringMatching(/^- \[ \] `libwebp` 1\.2\.4: libwebp 1\.2\.4 in `lib\/libwebp\.so\.7` \(CVE-2023-1999, CVE-2023-4863\) \(its own package\)$/),
    ]);
  });

  it('jsonl: the copy row with its run and the matched strings', () => {
    const lines = scan('--format', 'jsonl').stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['run', 'storePath', 'pname', 'packageVersion', 'file', 'library', 'version', 'advisories', 'attribute', 'maintainers', 'links', 'matches']));
  });
});

describe('query --format', () => {
  beforeAll(() => {
    expect(scan().code).toBe(0);
  });

  it('csv is CSV now, not a table', () => {
    const r = vendorscan(['query', '--library', 'libwebp', '--all', '--format', 'csv']);
    expect(r.code).toBe(0);
    const records = parse(r.stdout) as string[][];
    expect(records[0]?.slice(0, 3)).toEqual(['store_path', 'pname', 'package_version']);
    expect(records.slice(1).map((rec) => [rec[1], rec[6]])).toEqual([['libwebp', '1.2.4']]);
  });

  it('sarif and cyclonedx validate', () => {
    const sarif = vendorscan(['query', '--library', 'libwebp', '--all', '--format', 'sarif']);
    expect(schemaErrors(sarifValidator(), JSON.parse(sarif.stdout))).toEqual([]);
    const cdx = vendorscan(['query', '--library', 'libpng', '--all', '--format', 'cyclonedx']);
    expect(schemaErrors(cycloneDxValidator(), JSON.parse(cdx.stdout))).toEqual([]);
  });

  it('an unknown format is a usage error naming the formats', () => {
    const r = vendorscan(['query', '--library', 'libwebp', '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format must be one of table, jsonl, csv, markdown, sarif, cyclonedx; got "xml"/);
    expect(r.stdout).toBe('');
  });
});
