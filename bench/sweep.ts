// npm run sweep: the linkage check measured on every ELF file of this Debian system, not only on
// the corpus. Packs the ELF files of the installed packages (dpkg's file lists; each content once)
// into store paths with real Nix, one or more per Debian package and named after it (so pname
// attribution works: libssl3-3.0.x holds libcrypto.so.3), writes a file:// cache with `nix copy`,
// scans it with `vendorscan scan` as a user runs it, and reports every finding with its linkage and
// the file's DT_NEEDED list. A finding whose file NEEDs one of the library's sonames and is not the
// library's own file (its DT_SONAME is none of them) is a suspect: a program built against the
// shared library. Target: no suspect reported as a copy.
//
//   SWEEP_FILES=N     a reduced sweep over N files (CI): every file that NEEDs a library's soname
//                     among them up to half, then an even spread of the rest; default: all
//   SWEEP_DIR=DIR     work folder (default bench/.cache/sweep): file lists, the cache, the scan
//   SWEEP_REPORT=F    markdown report (default: docs/sweep-report.md for the full sweep,
//                     DIR/sweep-report.md for a reduced one); F.json beside it has every finding
//   SWEEP_MIN_FILES   fail below this many ELF files (default 3000 for the full sweep)
//
// Exit 1 when a suspect is reported as a copy, a store path fails, or too few ELF files are found.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Stats, chmodSync, closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readElfLinkage } from '../formats/elf.ts';
import { sonameMatches } from '../formats/linkage.ts';
import { loadSignatures } from '../signatures/loader.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '..');
const env = { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' };
const limit = process.env['SWEEP_FILES'] ? Number(process.env['SWEEP_FILES']) : null;
if (limit !== null && !(Number.isInteger(limit) && limit > 0)) throw new Error(`SWEEP_FILES must be a positive whole number, not ${process.env['SWEEP_FILES']}`);
const work = path.resolve(process.env['SWEEP_DIR'] ?? path.join(here, '.cache', 'sweep'));
const reportPath = path.resolve(process.env['SWEEP_REPORT'] ?? (limit === null ? path.join(repo, 'docs', 'sweep-report.md') : path.join(work, 'sweep-report.md')));
const minFiles = Number(process.env['SWEEP_MIN_FILES'] ?? (limit === null ? 3000 : Math.min(limit, 100)));
/** A store path holds at most this many bytes or files: big packages are split. */
const BATCH_BYTES = 300 * 1024 * 1024;
const BATCH_FILES = 400;

const identities = loadSignatures().identities;
const started = Date.now();
const phases: [string, number][] = [];
let phaseStart = Date.now();
function phase(name: string): void {
  phases.push([name, Date.now() - phaseStart]);
  phaseStart = Date.now();
  console.error(`sweep: ${name} done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

// 1. Every ELF file dpkg installed, each content once.
interface ElfFile {
  source: string;
  pkg: string;
  version: string;
  size: number;
  sha: string;
  needed: string[];
  soname: string | null;
}
const versions = new Map(
  // dpkg-query's default format: binary:Package (with ":arch" for multi-arch ones) TAB Version.
  execFileSync('dpkg-query', ['-W'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split('\t') as [string, string])
    .map(([p, v]) => [p.replace(/:.*$/, ''), v] as [string, string]),
);
const infoDir = '/var/lib/dpkg/info';
const head = Buffer.alloc(4);
function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}
const seen = new Map<string, ElfFile>();
const seenPaths = new Set<string>();
let duplicates = 0;
for (const list of readdirSync(infoDir).filter((f) => f.endsWith('.list')).sort()) {
  const pkg = list.slice(0, -'.list'.length).replace(/:.*$/, '');
  const version = versions.get(pkg) ?? '0';
  for (const file of readFileSync(path.join(infoDir, list), 'utf8').split('\n')) {
    if (!file.startsWith('/') || seenPaths.has(file)) continue;
    seenPaths.add(file);
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      continue;
    }
    if (!st.isFile() || st.size < 64 || !isElf(file)) continue;
    const bytes = readFileSync(file);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(sha)) {
      duplicates++;
      continue;
    }
    let needed: string[] = [];
    let soname: string | null = null;
    try {
      const l = readElfLinkage(bytes);
      needed = l?.needed ?? [];
      soname = l?.soname ?? null;
    } catch {
      // A malformed ELF file is still scanned; it has no NEEDED list to report.
    }
    seen.set(sha, { source: file, pkg, version, size: st.size, sha, needed, soname });
  }
}
let files = [...seen.values()].sort((a, b) => a.source.localeCompare(b.source));
const found = files.length;
phase(`collect (${found} distinct ELF files, ${duplicates} duplicates)`);

/** The libraries whose sonames a file NEEDs. */
function neededLibraries(f: { needed: string[] }): string[] {
  return [...identities].filter(([, id]) => f.needed.some((n) => id.sonames.some((p) => sonameMatches(p, n)))).map(([lib]) => lib);
}

// 2. A reduced sweep: the files that could turn into suspects first (they NEED a library's soname),
// up to half, then an even spread of the rest.
if (limit !== null && files.length > limit) {
  const needing = files.filter((f) => neededLibraries(f).length > 0);
  const picked = new Set(spread(needing, Math.floor(limit / 2)));
  const rest = files.filter((f) => !picked.has(f));
  for (const f of spread(rest, limit - picked.size)) picked.add(f);
  files = files.filter((f) => picked.has(f));
}
function spread<T>(items: T[], n: number): T[] {
  if (n >= items.length) return items;
  const step = items.length / n;
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * step)] as T);
}

// 3. Store paths: per package, split when large; the tree keeps each file's path on the system.
const trees = path.join(work, 'trees');
rmSync(trees, { recursive: true, force: true });
mkdirSync(trees, { recursive: true });
const byPkg = new Map<string, ElfFile[]>();
for (const f of files) byPkg.set(f.pkg, [...(byPkg.get(f.pkg) ?? []), f]);
interface Batch {
  name: string;
  dir: string;
  files: ElfFile[];
  storePath: string;
}
const batches: Batch[] = [];
for (const [pkg, list] of [...byPkg].sort()) {
  let current: ElfFile[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (current.length === 0) return;
    const version = (list[0]?.version ?? '0').replace(/[^A-Za-z0-9+._?=-]/g, '_');
    const name = `${pkg}-${version}`;
    const dir = path.join(trees, String(batches.length), name);
    for (const f of current) {
      const target = path.join(dir, f.source);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(f.source, target);
      chmodSync(target, 0o755);
    }
    batches.push({ name, dir, files: current, storePath: '' });
    current = [];
    bytes = 0;
  };
  for (const f of list) {
    if (current.length >= BATCH_FILES || (current.length > 0 && bytes + f.size > BATCH_BYTES)) flush();
    current.push(f);
    bytes += f.size;
  }
  flush();
}
for (const b of batches) b.storePath = execFileSync('nix-store', ['--add', b.dir], { env, encoding: 'utf8' }).trim();
rmSync(trees, { recursive: true, force: true });
phase(`pack (${batches.length} store paths)`);

const cacheDir = path.join(work, 'cache');
mkdirSync(cacheDir, { recursive: true });
const storePaths = batches.map((b) => b.storePath);
const pathList = path.join(work, 'store-paths.txt');
writeFileSync(pathList, `${storePaths.join('\n')}\n`);
// Quiet unless it fails (execFileSync's error then carries nix's stderr).
execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${cacheDir}?compression=zstd`, ...storePaths], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
phase('nix copy (zstd)');

// 4. Scan as a user does, results in a store of the sweep's own.
const dataDir = path.join(work, 'data');
rmSync(dataDir, { recursive: true, force: true });
const scan = spawnSync(process.execPath, [path.join(repo, 'bin', 'vendorscan.mjs'), 'scan', '--cache', `file://${cacheDir}`, '--paths', pathList, '--format', 'jsonl'], {
  cwd: repo,
  env: { ...env, VENDORSCAN_DATA_DIR: dataDir },
  encoding: 'utf8',
  maxBuffer: 1 << 30,
});
if (scan.status !== 0) throw new Error(`vendorscan scan exited with ${scan.status}: ${scan.stderr}`);
const scanSummary = scan.stderr.trim().split('\n').filter((l) => !l.includes('\r'));
phase('scan');

// 5. The report.
interface Row {
  storePath: string;
  file: string;
  library: string;
  version: string | null;
  versionRaw: string | null;
  vendored: boolean;
  linkage: 'copy' | 'built-against' | 'unknown';
  linkageReason: string;
}
const byStoreFile = new Map<string, ElfFile>();
for (const b of batches) for (const f of b.files) byStoreFile.set(`${b.storePath}\0${f.source.slice(1)}`, f);
const rows = scan.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
interface Reported extends Row {
  source: string;
  pkg: string;
  needed: string[];
  soname: string | null;
  suspect: boolean;
}
const reported: Reported[] = rows.map((r) => {
  const f = byStoreFile.get(`${r.storePath}\0${r.file}`);
  const id = identities.get(r.library);
  const needed = f?.needed ?? [];
  const soname = f?.soname ?? null;
  const own = soname !== null && (id?.sonames ?? []).some((p) => sonameMatches(p, soname));
  const needs = needed.some((n) => (id?.sonames ?? []).some((p) => sonameMatches(p, n)));
  return { ...r, source: f?.source ?? '?', pkg: f?.pkg ?? '?', needed, soname, suspect: needs && !own };
});
const suspects = reported.filter((r) => r.suspect);
const falseCopies = suspects.filter((r) => r.linkage !== 'built-against');
const bytes = files.reduce((n, f) => n + f.size, 0);
const failedLine = scanSummary.find((l) => /^Scanned /.test(l)) ?? '';
const failed = Number(/, (\d+) failed/.exec(failedLine)?.[1] ?? '0');

const md: string[] = [];
const cell = (s: string): string => s.replace(/\|/g, '\\|');
md.push(`# Linkage sweep${limit === null ? '' : ` (reduced: SWEEP_FILES=${limit})`}`, '');
md.push(`Every ELF file of the Debian packages installed on this machine (dpkg's file lists, each content once), packed by real Nix into store paths named after their package, a file:// cache written by \`nix copy\` (zstd), scanned by \`vendorscan scan\`. Generated by \`npm run sweep\` on ${new Date().toISOString().slice(0, 10)}.`, '');
md.push('| what | figure |', '| --- | --- |');
md.push(`| ELF files | ${files.length} distinct${limit === null ? '' : ` of ${found}`} (${duplicates} duplicate contents left out), from ${byPkg.size} packages |`);
md.push(`| bytes | ${(bytes / 1e9).toFixed(2)} GB |`);
md.push(`| store paths | ${batches.length} |`);
md.push(`| findings | ${reported.length}: ${(['copy', 'built-against', 'unknown'] as const).map((k) => `${reported.filter((r) => r.linkage === k).length} ${k}`).join(', ')} |`);
md.push(`| suspects (NEED the library's soname, are not its own file) | ${suspects.length}, of which reported as copies: **${falseCopies.length}** |`);
md.push(`| failed store paths | ${failed} |`);
md.push(`| time | ${phases.map(([n, ms]) => `${n.replace(/ \(.*/, '')} ${(ms / 1000).toFixed(0)} s`).join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s |`);
md.push('', `Scan summary: ${scanSummary.map((l) => l.trim()).join(' ')}`, '');
md.push('## Findings by library and linkage', '', '| library | copy | built-against | unknown |', '| --- | --- | --- | --- |');
for (const lib of [...new Set(reported.map((r) => r.library))].sort()) {
  const of = (k: string): number => reported.filter((r) => r.library === lib && r.linkage === k).length;
  md.push(`| ${lib} | ${of('copy')} | ${of('built-against')} | ${of('unknown')} |`);
}
md.push('', '## Every finding', '', '| library | version | linkage | why | file (package) | DT_NEEDED |', '| --- | --- | --- | --- | --- | --- |');
const order = { copy: 0, unknown: 1, 'built-against': 2 } as const;
for (const r of [...reported].sort((a, b) => a.library.localeCompare(b.library) || order[a.linkage] - order[b.linkage] || a.source.localeCompare(b.source))) {
  md.push(`| ${r.library} | ${r.version ?? (r.versionRaw ? `? (${cell(r.versionRaw)})` : '?')} | ${r.linkage}${r.suspect ? ' (suspect)' : ''} | ${cell(r.linkageReason)} | \`${r.source}\` (${r.pkg}) | ${r.needed.join(', ') || '—'} |`);
}
if (falseCopies.length > 0) {
  md.push('', '## Suspects reported as copies', '');
  for (const r of falseCopies) md.push(`- \`${r.source}\` (${r.pkg}): ${r.library} ${r.version ?? '?'}, ${r.linkage} (${r.linkageReason}); NEEDs ${r.needed.join(', ')}`);
}
mkdirSync(path.dirname(reportPath), { recursive: true });
writeFileSync(reportPath, `${md.join('\n')}\n`);
writeFileSync(`${reportPath.replace(/\.md$/, '')}.json`, `${JSON.stringify({ files: files.length, found, duplicates, bytes, storePaths: batches.length, phases, scanSummary, findings: reported }, null, 1)}\n`);

console.log(md.slice(0, md.indexOf('## Every finding')).join('\n'));
console.log(`report: ${reportPath}`);
const problems: string[] = [];
if (files.length < minFiles) problems.push(`only ${files.length} ELF files (want at least ${minFiles})`);
if (failed > 0) problems.push(`${failed} store paths failed`);
if (falseCopies.length > 0) problems.push(`${falseCopies.length} suspects reported as copies: ${falseCopies.map((r) => `${r.source} (${r.library})`).join(', ')}`);
if (problems.length > 0) {
  console.log(`sweep: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else console.log('sweep: target met: no suspect reported as a copy');
