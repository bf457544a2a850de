// From copies to decisions, end to end with real Nix and PostgreSQL: the bundled demo cache is
// run 1; run 2 is built by nix-build from a Nix expression written here (libwebp bumped to 1.3.2,
// libpng gone, an app vendoring libwebp 1.2.4 and libpng, a viewer whose libwebp has no readable
// version). The packages file is what the real `nix-env -qa --json --meta --out-path` makes of
// the same expression. Then: the advisory query, attribution, the diff, triage, and the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';
import { makeBinaryCache } from '../helpers/nix.ts';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';
import { parse as parseCsv } from 'csv-parse/sync';
import { cycloneDxValidator, sarifValidator, schemaErrors } from '../helpers/export-schemas.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = path.join(repo, 'bin', 'vendorscan.mjs');
const demo = path.join(repo, 'examples', 'demo-cache');
const LIB = '/usr/lib/x86_64-linux-gnu';
const nixEnv = { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' };

let database: TestDatabase;
let work: string;
let pathsFile: string;
let packagesFile: string;
const built: Record<string, string> = {};
const demoPath = (name: string): string => readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').split('\n').find((p) => p.endsWith(`-${name}`)) ?? '';

function vendorscan(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, env: { ...process.env, ...database.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await vendorscan(args, env);
  if (r.code !== 0) throw new Error(`vendorscan ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const jsonl = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** libwebp's WebPGet{De,En}coderVersion compile to `mov eax, 0x0001MMmm; ret`: the same binary, as 1.3.2 would report itself. */
function libwebpAs132(): Buffer {
  const lib = Buffer.from(readFileSync(path.join(LIB, 'libwebp.so.7')));
  const from = Buffer.from('b804020100c3', 'hex');
  const to = Buffer.from('b802030100c3', 'hex');
  let n = 0;
  for (let i = lib.indexOf(from); i >= 0; i = lib.indexOf(from, i + 1)) {
    to.copy(lib, i);
    n++;
  }
  if (n !== 2) throw new Error(`expected the decoder and encoder version functions, found ${n}`);
  return lib;
}

const EXPRESSION = (files: string): string => `
let
  mk = args@{ pname, version, script ? "exit 1", meta ? {} }:
    (derivation {
      name = "\${pname}-\${version}";
      inherit pname version;
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [ "-c" script ];
    }) // { meta = meta // { position = let p = builtins.unsafeGetAttrPos "pname" args; in "\${p.file}:\${toString p.line}"; }; };
in {
  signal-desktop = mk {
    pname = "signal-desktop"; version = "7.0.0";
    script = "/bin/mkdir -p $out/lib && /bin/cp ${LIB}/libwebp.so.7 ${LIB}/libpng16.so.16 $out/lib/";
    meta = { homepage = "https://signal.org/"; maintainers = [ { github = "alice"; githubId = 1; name = "Alice"; } { name = "Bob Nohandle"; email = "bob@example.org"; } ]; };
  };
  libwebp = mk { pname = "libwebp"; version = "1.3.2"; script = "/bin/mkdir -p $out/lib && /bin/cp ${files}/libwebp-1.3.2.so $out/lib/libwebp.so.7"; meta.maintainers = [ { github = "carol"; githubId = 3; name = "Carol"; } ]; };
  demo-viewer = mk { pname = "demo-viewer"; version = "2.0"; script = "/bin/mkdir -p $out/bin && /bin/cp ${files}/viewer $out/bin/viewer"; };
  # Listed, never built: the demo cache's libwebp, joined by name.
  libwebp_1_2 = mk { pname = "libwebp"; version = "1.2.4"; meta.homepage = "https://developers.google.com/speed/webp/"; };
}
`;

beforeAll(async () => {
  database = await freshPostgres();
  work = mkdtempSync(path.join(tmpdir(), 'vendorscan-decisions-'));
  const files = path.join(work, 'files');
  mkdirSync(files);
  chmodSync(work, 0o755); // builders run as the nixbld users
  writeFileSync(path.join(files, 'libwebp-1.3.2.so'), libwebpAs132());
  // A real ELF carrying libwebp's VP8 decoder error strings and no version function: presence only.
  const strings = ['no memory during frame initialization.', 'cannot parse filter header', 'Incorrect keyframe parameters.', 'cannot parse segment header'];
  writeFileSync(path.join(files, 'viewer'), Buffer.concat([readFileSync('/bin/true'), Buffer.from(`\0${strings.join('\0')}\0`)]));
  const expr = path.join(work, 'packages.nix');
  writeFileSync(expr, EXPRESSION(files));
  const out = execFileSync('nix-build', [expr, '-A', 'signal-desktop', '-A', 'libwebp', '-A', 'demo-viewer', '--no-out-link'], { env: nixEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n');
  for (const [i, name] of ['signal-desktop', 'libwebp', 'demo-viewer'].entries()) built[name] = out[i] ?? '';
  packagesFile = path.join(work, 'nix-env.json');
  writeFileSync(packagesFile, execFileSync('nix-env', ['-f', expr, '-qa', '--json', '--meta', '--out-path'], { env: nixEnv, encoding: 'utf8' }));

  // Run 1: the bundled demo cache, as it is.
  pathsFile = path.join(work, 'paths.txt');
  writeFileSync(pathsFile, readFileSync(path.join(demo, 'store-paths.txt')));
  await ok(['scan', '--cache', demo, '--paths', pathsFile]);
  // Run 2: the same path list file, now with libwebp bumped, libpng gone, two new packages.
  const cache2 = path.join(work, 'cache2');
  cpSync(demo, cache2, { recursive: true });
  makeBinaryCache(out, 'xz', cache2);
  writeFileSync(pathsFile, [demoPath('demo-docs-1.0'), built['libwebp'], built['signal-desktop'], built['demo-viewer']].join('\n'));
  await ok(['scan', '--cache', cache2, '--paths', pathsFile]);
}, 300_000);

afterAll(async () => {
  await database?.drop();
});

describe('vendorscan query --advisory', () => {
  it('lists exactly the vendored copies in range, with unknown versions apart', async () => {
    const rows = jsonl(await ok(['query', '--advisory', 'CVE-2023-4863', '--format', 'jsonl']));
    const seen = rows.map((r) => `${r['status']} ${r['pname']} ${r['library']}@${r['version']} ${r['file']}`).sort();
    expect(seen).toEqual(['affected signal-desktop libwebp@1.2.4 lib/libwebp.so.7', 'cannot-tell demo-viewer libwebp@null bin/viewer']);
    for (const r of rows) expect(r['run']).toBe(2);
    const affected = rows.find((r) => r['status'] === 'affected');
    expect(affected?.['advisories']).toEqual(['CVE-2023-1999', 'CVE-2023-4863']);
    expect(affected?.['storePath']).toBe(built['signal-desktop']);
  });

  it('takes an alias, and --all adds own packages only where in range', async () => {
    const all = jsonl(await ok(['query', '--advisory', 'GHSA-j7hp-h8jx-5ppr', '--all', '--format', 'jsonl']));
    // libwebp 1.3.2's own package is out of range: the list does not change.
    expect(all.map((r) => r['pname']).sort()).toEqual(['demo-viewer', 'signal-desktop']);
    const run1 = jsonl(await ok(['query', '--advisory', 'CVE-2023-4863', '--all', '--run', '1', '--format', 'jsonl']));
    expect(run1.map((r) => `${r['status']} ${r['storePath']} ${r['vendored']}`)).toEqual([`affected ${demoPath('libwebp-1.2.4')} false`]);
  });

  it('answers the README question as a table with the coverage line', async () => {
    const out = await ok(['query', '--advisory', 'CVE-2023-4863']);
    expect(out).toMatch(/^Run 2, the latest completed library scan of any scope: paths from \S*paths\.txt, finished [^;]*; 4 store paths: 3 scanned, 1 reused unchanged, 0 not in cache, 0 failed\.\n/);
    expect(out).toMatch(/Affected: 1 vendored copy\n.*\n\s+signal-desktop 7\.0\.0\s+libwebp\s+1\.2\.4\s+high\s+CVE-2023-1999,CVE-2023-4863\s+\/nix\/store\/\S+-signal-desktop-7\.0\.0\/lib\/libwebp\.so\.7/);
    expect(out).toMatch(/Cannot tell \(version unknown or unreadable\): 1 vendored copy\n.*\n\s+demo-viewer 2\.0\s+libwebp\s+\?/);
  });

  it('names an unknown advisory', async () => {
    const r = await vendorscan(['query', '--advisory', 'CVE-1999-0001']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no advisory "CVE-1999-0001"/);
  });
});

describe('attribution from a packages file made by nix-env', () => {
  it('joins by output path where the file has them, by name otherwise', async () => {
    const rows = jsonl(await ok(['query', '--library', 'libwebp', '--all', '--packages', packagesFile, '--format', 'jsonl']));
    const signal = rows.find((r) => r['pname'] === 'signal-desktop');
    expect(signal).toMatchObject({
      packageVersion: '7.0.0',
      attribute: 'signal-desktop',
      maintainers: ['alice', 'Bob Nohandle'],
      homepage: 'https://signal.org/',
      links: {
        search: 'https://search.nixos.org/packages?channel=unstable&show=signal-desktop&query=signal-desktop',
        hydra: 'https://hydra.nixos.org/job/nixpkgs/trunk/signal-desktop.x86_64-linux',
      },
    });
    expect(signal?.['position']).toMatch(/packages\.nix:\d+$/);
    expect(rows.find((r) => r['pname'] === 'libwebp')).toMatchObject({ attribute: 'libwebp', maintainers: ['carol'] });
    // Run 1's libwebp-1.2.4 comes from the demo cache, not from this expression: joined by name.
    const demoRows = jsonl(await ok(['query', '--library', 'libwebp', '--all', '--run', '1', '--packages', packagesFile, '--format', 'jsonl']));
    expect(demoRows).toHaveLength(1);
    expect(demoRows[0]).toMatchObject({ storePath: demoPath('libwebp-1.2.4'), attribute: 'libwebp_1_2', homepage: 'https://developers.google.com/speed/webp/' });
    // Without a packages file: pname and version from the store path, nothing else.
    const bare = jsonl(await ok(['query', '--library', 'libwebp', '--format', 'jsonl']));
    expect(bare.find((r) => r['pname'] === 'signal-desktop')).toMatchObject({ packageVersion: '7.0.0', attribute: null, maintainers: [], links: { search: null, hydra: null } });
  });
});

describe('vendorscan diff', () => {
  it('names the added, removed and changed copies and the advisories that came and went', async () => {
    const rows = jsonl(await ok(['diff', '--format', 'jsonl']));
    const of = (change: string): Record<string, unknown>[] => rows.filter((r) => r['change'] === change);
    for (const r of rows) expect([r['from'], r['to']]).toEqual([1, 2]);
    expect(of('appeared').map((r) => `${r['pname']} ${r['library']}@${r['version']}`).sort()).toEqual(['demo-viewer libwebp@null', 'signal-desktop libpng@1.6.39', 'signal-desktop libwebp@1.2.4']);
    expect(of('disappeared').map((r) => `${r['storePath']} ${r['library']}`)).toEqual([`${demoPath('libpng-1.6.39')} libpng`]);
    const changed = of('changed') as unknown as { before: Record<string, unknown>; after: Record<string, unknown> }[];
    expect(changed).toHaveLength(1);
    expect(changed[0]?.before).toMatchObject({ storePath: demoPath('libwebp-1.2.4'), version: '1.2.4', packageVersion: '1.2.4' });
    expect(changed[0]?.after).toMatchObject({ storePath: built['libwebp'], version: '1.3.2', packageVersion: '1.3.2', advisories: [] });
    const newly = of('newly-affected').map((r) => `${(r['copy'] as Record<string, unknown>)['pname']}/${(r['copy'] as Record<string, unknown>)['library']}: ${(r['advisories'] as string[]).join(',')}`);
    expect(newly.sort()).toEqual(['signal-desktop/libpng: CVE-2025-64720,CVE-2025-65018', 'signal-desktop/libwebp: CVE-2023-1999,CVE-2023-4863']);
    const gone = of('no-longer-affected').map((r) => `${(r['copy'] as Record<string, unknown>)['storePath']}: ${(r['advisories'] as string[]).join(',')}`);
    expect(gone.sort()).toEqual([`${built['libwebp']}: CVE-2023-1999,CVE-2023-4863`, `${demoPath('libpng-1.6.39')}: CVE-2025-64720,CVE-2025-65018`].sort());
  });

  it('prints the same as a table; explicit runs in either order', async () => {
    const out = await ok(['diff', '--from', '1', '--to', '2']);
    expect(out).toMatch(/Changed version: 1\n\s+libwebp 1\.2\.4 → 1\.3\.2: libwebp 1\.2\.4 → 1\.3\.2/);
    expect(out).toMatch(/Went away: 1\n/);
    const back = jsonl(await ok(['diff', '--from', '2', '--to', '1', '--format', 'jsonl']));
    expect(back.filter((r) => r['change'] === 'disappeared')).toHaveLength(3);
  });

  it('refuses a run that does not exist', async () => {
    const r = await vendorscan(['diff', '--from', '99', '--to', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from: run 99 does not exist/);
  });
});

describe('exports of the answers', () => {
  it('query --advisory --format markdown: the tracking-issue checklist, attributed, with the unknown version apart', async () => {
    const md = await ok(['query', '--advisory', 'CVE-2023-4863', '--packages', packagesFile, '--format', 'markdown']);
    expect(md).toMatch(/^## CVE-2023-4863: 1 affected, then 1 whose version cannot tell\n\nCoverage: Run 2: /);
    const lines = md.split('\n').filter((l) => l.startsWith('- [ ] '));
    expect(lines).toEqual([
      expect.stringMatching(/^- \[ \] \[`demo-viewer`\]\(\S+\) 2\.0: libwebp version unknown in `bin\/viewer`$/),
      expect.stringMatching(/^- \[ \] \[`signal-desktop`\]\(https:\/\/search\.nixos\.org\/packages\?channel=unstable&show=signal-desktop&query=signal-desktop\) 7\.0\.0: libwebp 1\.2\.4 in `lib\/libwebp\.so\.7` \(CVE-2023-1999, CVE-2023-4863\) — @alice `Bob Nohandle`$/),
    ]);
  });

  it('diff --format sarif and cyclonedx: valid documents; SARIF says what changed against the baseline', async () => {
    const sarif = JSON.parse(await ok(['diff', '--format', 'sarif'])) as { runs: { results: { baselineState: string; properties: Record<string, unknown> }[] }[] };
    expect(schemaErrors(sarifValidator(), sarif)).toEqual([]);
    const states = sarif.runs[0]!.results.map((r) => `${r.properties['change']} ${r.baselineState} ${r.properties['pname']}/${r.properties['library']}`).sort();
    expect(states).toEqual([
      'appeared new demo-viewer/libwebp',
      'appeared new signal-desktop/libpng',
      'appeared new signal-desktop/libwebp',
      'changed updated libwebp/libwebp',
      'disappeared absent libpng/libpng',
      'newly-affected new signal-desktop/libpng',
      'newly-affected new signal-desktop/libwebp',
      'no-longer-affected absent libpng/libpng',
      'no-longer-affected absent libwebp/libwebp',
    ]);
    const bom = JSON.parse(await ok(['diff', '--format', 'cyclonedx']));
    expect(schemaErrors(cycloneDxValidator(), bom)).toEqual([]);
  });

  it('diff --format csv: one record per change, with what it was before', async () => {
    const records = parseCsv(await ok(['diff', '--format', 'csv'])) as string[][];
    const header = records[0] ?? [];
    const col = (name: string): number => header.indexOf(name);
    const changed = records.filter((r) => r[col('change')] === 'changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]?.[col('version')]).toBe('1.3.2');
    expect(changed[0]?.[col('change_note')]).toBe(`was libwebp 1.2.4 in ${demoPath('libwebp-1.2.4')}/lib/libwebp.so.7`);
  });
});

describe('the triage file', () => {
  const triage = (until: string): string => {
    const file = path.join(work, `triage-${until}.toml`);
    writeFileSync(
      file,
      `# checked by hand\n[[suppress]]\npname = "signal-desktop"\nadvisory = "CVE-2023-4863"\nreason = "Signal builds with its own patched libwebp"\nuntil = ${until}\n`,
    );
    return file;
  };

  it('hides one finding until its date, counts it, and --include-suppressed brings it back', async () => {
    const future = triage('2999-12-31');
    const hidden = await ok(['query', '--advisory', 'CVE-2023-4863', '--triage', future]);
    expect(hidden).toMatch(/^Run 2[^\n]* 0 failed\. 1 suppressed by triage \(--include-suppressed shows them\)\.\n/);
    expect(hidden).toMatch(/Affected: 0 vendored copies/);
    expect(hidden).toMatch(/Cannot tell .*: 1 vendored copy/);
    const back = jsonl(await ok(['query', '--advisory', 'CVE-2023-4863', '--triage', future, '--include-suppressed', '--format', 'jsonl']));
    expect(back.find((r) => r['pname'] === 'signal-desktop')?.['triage']).toEqual([{ reason: 'Signal builds with its own patched libwebp', until: '2999-12-31' }]);
    // The entry names one advisory: the same copy still counts under the other.
    const other = jsonl(await ok(['query', '--advisory', 'CVE-2023-1999', '--triage', future, '--format', 'jsonl']));
    expect(other.filter((r) => r['status'] === 'affected').map((r) => r['pname'])).toEqual(['signal-desktop']);
    // After its date the entry no longer applies.
    const expired = await ok(['query', '--advisory', 'CVE-2023-4863', '--triage', triage('2020-01-01')]);
    expect(expired).not.toMatch(/suppressed/);
    expect(expired).toMatch(/Affected: 1 vendored copy/);
  });

  it('leaves suppressed findings out of scan output too, and counts them', async () => {
    const file = path.join(work, 'scan-triage.toml');
    writeFileSync(file, '[[suppress]]\npname = "signal-desktop"\nlibrary = "libwebp"\nreason = "decided"\n');
    const args = ['scan', '--cache', path.join(work, 'cache2'), '--paths', pathsFile, '--no-store', '--format', 'jsonl', '--triage', file];
    const r = await vendorscan(args);
    expect(r.code).toBe(0);
    expect(jsonl(r.stdout).map((f) => `${f['pname']} ${f['library']}`).sort()).toEqual(['demo-viewer libwebp', 'libwebp libwebp', 'signal-desktop libpng']);
    expect(r.stderr).toMatch(/^1 finding suppressed by triage \(--include-suppressed shows them\)\.$/m);
    const all = await vendorscan([...args, '--include-suppressed']);
    expect(jsonl(all.stdout).find((f) => f['pname'] === 'signal-desktop' && f['library'] === 'libwebp')?.['triage']).toEqual([{ reason: 'decided', until: null }]);
  });

  it('refuses a malformed file, naming the file, the entry and the key', async () => {
    const file = path.join(work, 'bad.toml');
    writeFileSync(file, '[[suppress]]\npname = "x"\nreason = "ok"\n\n[[suppress]]\nlibary = "libwebp"\nreason = "typo"\n');
    const r = await vendorscan(['query', '--advisory', 'CVE-2023-4863', '--triage', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: [[suppress]] #2 libary: unknown key`);
  });
});

describe('the API', () => {
  let runtime: Runtime;
  let app: FastifyInstance;
  beforeAll(async () => {
    const triageFile = path.join(work, 'service-triage.toml');
    writeFileSync(triageFile, `[[suppress]]\nstore_path = "${built['demo-viewer']}"\nreason = "a viewer we do not ship"\n`);
    runtime = await openRuntime(loadConfig({ ...database.env, VENDORSCAN_PACKAGES: packagesFile, VENDORSCAN_TRIAGE: triageFile }), { threads: 1 });
    app = await buildApi({ ...runtime, apiToken: null });
  });
  afterAll(async () => {
    await app?.close();
    await runtime?.close();
  });
  const get = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await app.inject({ method: 'GET', url });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> };
  };

  it('lists advisories with counts from the latest library scan', async () => {
    const { status, body } = await get('/v1/advisories');
    expect(status).toBe(200);
    expect(body['run']).toMatchObject({ runId: 2, kind: 'library-scan', complete: true });
    const webp = (body['advisories'] as Record<string, unknown>[]).find((a) => a['id'] === 'CVE-2023-4863');
    // The viewer's unknown libwebp is hidden by the configured triage file.
    expect(webp).toMatchObject({ aliases: ['GHSA-j7hp-h8jx-5ppr'], libraries: ['chromium', 'electron', 'libwebp'], affected: 1, cannotTell: 0 });
    expect(body['suppressed']).toBeGreaterThan(0);
  });

  it('lists the copies an advisory covers, attributed, and the suppressed ones on request', async () => {
    const { status, body } = await get('/v1/advisories/CVE-2023-4863/affected');
    expect(status).toBe(200);
    expect(body).toMatchObject({ totalAffected: 1, totalCannotTell: 0, suppressed: 1, advisory: { id: 'CVE-2023-4863' } });
    expect((body['affected'] as Record<string, unknown>[])[0]).toMatchObject({ pname: 'signal-desktop', attribute: 'signal-desktop', maintainers: ['alice', 'Bob Nohandle'], advisories: ['CVE-2023-1999', 'CVE-2023-4863'], linkage: 'copy' });
    const all = await get('/v1/advisories/CVE-2023-4863/affected?includeSuppressed=true&run=2');
    expect(all.body).toMatchObject({ totalCannotTell: 1, cannotTell: [{ pname: 'demo-viewer', version: null, triage: [{ reason: 'a viewer we do not ship', until: null }] }] });
    const run1 = await get('/v1/advisories/CVE-2023-4863/affected?run=1&vendored=any');
    expect(run1.body).toMatchObject({ totalAffected: 1, affected: [{ storePath: demoPath('libwebp-1.2.4'), attribute: 'libwebp_1_2' }] });
  });

  it('answers the diff', async () => {
    const { status, body } = await get('/v1/diff');
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: { runId: 1 }, to: { runId: 2 } });
    expect((body['changed'] as { after: { version: string } }[]).map((c) => c.after.version)).toEqual(['1.3.2']);
    expect((body['appeared'] as unknown[]).length).toBe(2); // the viewer's copy is suppressed
    expect((body['disappeared'] as { library: string }[]).map((c) => c.library)).toEqual(['libpng']);
  });

  it('answers an advisory and the diff in the export formats, with their media types', async () => {
    const md = await app.inject({ method: 'GET', url: '/v1/advisories/CVE-2023-4863/affected?format=markdown' });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.headers['content-disposition']).toBe('attachment; filename="CVE-2023-4863-affected-run2.md"');
    expect(md.body).toMatch(/^- \[ \] \[`signal-desktop`\]\(\S+\) 7\.0\.0: libwebp 1\.2\.4 in `lib\/libwebp\.so\.7` \(CVE-2023-1999, CVE-2023-4863\) — @alice `Bob Nohandle`$/m);
    // The configured triage file hides the viewer; includeSuppressed brings it back, marked.
    expect(md.body).not.toMatch(/demo-viewer/);
    const all = await app.inject({ method: 'GET', url: '/v1/advisories/CVE-2023-4863/affected?format=sarif&includeSuppressed=true' });
    expect(all.headers['content-type']).toBe('application/sarif+json; charset=utf-8');
    const log = all.json() as { runs: { results: { suppressions?: { justification: string }[]; properties: Record<string, unknown> }[] }[] };
    expect(schemaErrors(sarifValidator(), log)).toEqual([]);
    expect(log.runs[0]!.results.find((r) => r.properties['pname'] === 'demo-viewer')?.suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'a viewer we do not ship' }]);
    const cdx = await app.inject({ method: 'GET', url: '/v1/diff?format=cyclonedx' });
    expect(cdx.headers['content-type']).toBe('application/vnd.cyclonedx+json; version=1.6; charset=utf-8');
    expect(schemaErrors(cycloneDxValidator(), cdx.json())).toEqual([]);
    expect((await get('/v1/diff?format=xml')).body).toMatchObject({ parameter: 'format' });
  });

  it('gives 404 for an unknown advisory and 400 for a run that does not exist', async () => {
    expect((await get('/v1/advisories/CVE-1999-0001/affected')).status).toBe(404);
    const bad = await get('/v1/diff?from=77');
    expect(bad).toMatchObject({ status: 400, body: { parameter: 'from' } });
    expect((await get('/v1/advisories?run=abc')).status).toBe(400);
  });

  it('documents the answers in the OpenAPI doc with response schemas and tags', async () => {
    const doc = (await get('/docs/json')).body as { paths: Record<string, { get: { tags: string[]; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> } }> };
    for (const route of ['/v1/advisories', '/v1/advisories/{id}/affected', '/v1/diff']) {
      const op = doc.paths[route]?.get;
      expect(op?.tags, route).toEqual(['advisories']);
      expect(Object.keys(op?.responses['200']?.content?.['application/json']?.schema.properties ?? {}), route).toContain(route === '/v1/diff' ? 'changed' : 'run');
    }
  });
});
