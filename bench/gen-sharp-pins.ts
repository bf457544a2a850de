// Generates the product pins of sharp's prebuilt libvips from the releases themselves: every
// published release of @img/sharp-libvips-linux-x64 (the native build) and @img/sharp-wasm32
// (the WebAssembly build) carries a versions.json naming the libvips version it compiles in and
// the versions of the libraries it bundles. A binary shows only its libvips version, so the pin
// table maps that version to each bundled library's; a libvips version that two releases built
// with different versions of a library is left out (reported as ambiguous), never guessed, and a
// libvips version missing from the table reads as "version unknown" (signatures/version-reader.ts).
//
//   node bench/gen-sharp-pins.ts            # rewrites the pin tables in signatures/*.yar
//   node bench/gen-sharp-pins.ts --check    # prints the tables, writes nothing
//
// Uses the npm client (`npm view`, `npm pack`); tarballs are kept in $TMPDIR/vendorscan-sharp-pins.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareVersions, parseVersion } from '../signatures/version.ts';

const PACKAGES = ['@img/sharp-libvips-linux-x64', '@img/sharp-wasm32'];
/** Pin tables to write: the signature file, the rule, and the versions.json key of the library. */
const TABLES = [
  { file: 'signatures/libwebp.yar', rule: 'libwebp_sharp_libvips_pin', key: 'webp' },
  { file: 'signatures/zlib.yar', rule: 'zlib_ng_sharp_libvips_pin', key: 'zlib-ng' },
];

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cacheDir = path.join(tmpdir(), 'vendorscan-sharp-pins');

function npm(args: string[], cwd = repo): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** versions.json of one release, or null when the release has none (with the reason). */
function versionsJson(name: string, version: string): Record<string, string> | string {
  const file = path.join(cacheDir, `${name.replace(/[@/]/g, '_')}-${version}.versions.json`);
  if (!existsSync(file)) {
    const dir = path.join(cacheDir, 'pack');
    mkdirSync(dir, { recursive: true });
    const packed = JSON.parse(npm(['pack', `${name}@${version}`, '--json', '--pack-destination', dir], dir)) as { filename: string }[];
    const tgz = path.join(dir, packed[0]?.filename.replace(/^@/, '').replace('/', '-') ?? '');
    let text: string;
    try {
      text = execFileSync('tar', ['xzf', tgz, '-O', 'package/versions.json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      text = '"no versions.json in the package"';
    } finally {
      execFileSync('rm', ['-f', tgz]);
    }
    writeFileSync(file, text);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string> | string;
  return parsed;
}

interface Pin {
  /** libvips version → library version → releases that say so. */
  byVips: Map<string, Map<string, string[]>>;
}

function collect(): { pins: Map<string, Pin>; releases: number; skipped: string[] } {
  const pins = new Map(TABLES.map((t) => [t.key, { byVips: new Map() } as Pin]));
  const skipped: string[] = [];
  let releases = 0;
  for (const name of PACKAGES) {
    const versions = JSON.parse(npm(['view', name, 'versions', '--json'])) as string[];
    for (const version of versions) {
      const v = versionsJson(name, version);
      if (typeof v === 'string' || !v['vips']) {
        skipped.push(`${name}@${version}: ${typeof v === 'string' ? v : 'versions.json names no vips version'}`);
        continue;
      }
      releases++;
      for (const t of TABLES) {
        const lib = v[t.key];
        if (!lib) continue;
        const pin = pins.get(t.key)!;
        const seen = pin.byVips.get(v['vips']) ?? new Map<string, string[]>();
        seen.set(lib, [...(seen.get(lib) ?? []), `${name}@${version}`]);
        pin.byVips.set(v['vips'], seen);
      }
    }
  }
  return { pins, releases, skipped };
}

function order(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  return pa && pb ? compareVersions(pa, pb) : a.localeCompare(b);
}

function main(): void {
  const check = process.argv.includes('--check');
  const { pins, releases, skipped } = collect();
  const date = new Date().toISOString().slice(0, 10);
  for (const s of skipped) console.log(`skipped ${s}`);
  for (const t of TABLES) {
    const pin = pins.get(t.key)!;
    const map: string[] = [];
    const ambiguous: string[] = [];
    for (const vips of [...pin.byVips.keys()].sort(order)) {
      const libs = pin.byVips.get(vips)!;
      if (libs.size === 1) map.push(`${vips}=${[...libs.keys()][0]}`);
      else ambiguous.push(`${vips} (${[...libs.entries()].map(([l, by]) => `${l} in ${by.join(', ')}`).join('; ')})`);
    }
    console.log(`${t.rule}: ${map.join(' ')}`);
    for (const a of ambiguous) console.log(`${t.rule}: ambiguous, left out: ${a}`);
    if (check) continue;
    const file = path.join(repo, t.file);
    const text = readFileSync(file, 'utf8');
    const start = text.indexOf(`rule ${t.rule} {`);
    if (start < 0) throw new Error(`${t.file} has no rule ${t.rule}`);
    const end = text.indexOf('\n}', start);
    const body = text.slice(start, end);
    const note = `    // version_map generated by bench/gen-sharp-pins.ts on ${date} from the versions.json of ${releases} releases of ${PACKAGES.join(' and ')}${ambiguous.length > 0 ? `; left out as ambiguous: ${ambiguous.map((a) => a.split(' ')[0]).join(', ')}` : ''}`;
    const rewritten = body
      .replace(/\n {4}\/\/ version_map generated by .*/, '')
      .replace(/\n( {4})version_map = ".*"/, `\n${note}\n$1version_map = "${map.join(' ')}"`);
    if (rewritten === body && !body.includes('version_map')) throw new Error(`${t.file}: rule ${t.rule} has no version_map line to rewrite`);
    writeFileSync(file, text.slice(0, start) + rewritten + text.slice(end));
    console.log(`wrote ${t.file} (${map.length} libvips versions)`);
  }
}

main();
