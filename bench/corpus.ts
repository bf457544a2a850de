// The ground-truth corpus: real third-party binaries packed into store paths by real Nix with
// ../shared/corpus/build-cache.sh, and the scanner's findings judged against truth.jsonl.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FileFinding } from '../scanner/path-result.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const sharedCorpus = path.resolve(repo, '..', 'shared', 'corpus');

export interface Truth {
  store: string;
  file: string;
  /** library → version ('?' when only presence is known); empty for 'none'. */
  expect: Map<string, string>;
}

export interface BuiltCorpus {
  dir: string;
  cacheDir: string;
  storePaths: string[];
  truth: Truth[];
}

/**
 * Builds (or reuses, when the manifest is older than the build) a corpus into `out`. A manifest
 * may choose its compression with a "# compression: zstd" line (big binaries: xz would take
 * minutes to compress).
 */
export function buildCorpus(manifest: string, out: string): BuiltCorpus {
  const compression = /^# compression: (\w+)$/m.exec(readFileSync(manifest, 'utf8'))?.[1] ?? 'xz';
  const stamp = path.join(out, 'store-paths.txt');
  const fresh = existsSync(stamp) && statSync(stamp).mtimeMs > statSync(manifest).mtimeMs && existsSync(path.join(out, 'cache', 'nix-cache-info'));
  if (!fresh) {
    // "# prepare: SCRIPT OUTDIR" builds local files the manifest names (archives made from real
    // binaries), both paths relative to the manifest's folder.
    const prepare = /^# prepare: (\S+) (\S+)$/m.exec(readFileSync(manifest, 'utf8'));
    if (prepare) {
      const dir = path.dirname(manifest);
      execFileSync('bash', [path.resolve(dir, prepare[1] ?? ''), path.resolve(dir, prepare[2] ?? '')], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    execFileSync('bash', [path.join(sharedCorpus, 'build-cache.sh'), manifest, out, compression], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' },
    });
  }
  const truth = readFileSync(path.join(out, 'truth.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const t = JSON.parse(l) as { store: string; file: string; expect: string };
      const expect = new Map<string, string>();
      if (t.expect !== 'none') for (const e of t.expect.split(',')) expect.set(e.split('@')[0] ?? '', e.split('@')[1] ?? '?');
      return { store: t.store, file: t.file, expect };
    });
  const storePaths = readFileSync(stamp, 'utf8').split('\n').filter((l) => l !== '');
  return { dir: out, cacheDir: path.join(out, 'cache'), storePaths, truth };
}

export interface LibraryScore {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  versionsExact: number;
  versionsExpected: number;
  problems: string[];
}

/**
 * Judges findings against the truth. Only libraries the truth names for a file are judged there;
 * a file whose truth is 'none' must have no finding at all. Findings for libraries the truth
 * does not list on a file that has expectations are counted as unlisted, not as errors.
 */
export function score(truth: Truth[], findings: FileFinding[]): { libraries: Map<string, LibraryScore>; unlisted: string[] } {
  const libraries = new Map<string, LibraryScore>();
  const lib = (name: string): LibraryScore => {
    let s = libraries.get(name);
    if (!s) {
      s = { truePositives: 0, falsePositives: 0, falseNegatives: 0, versionsExact: 0, versionsExpected: 0, problems: [] };
      libraries.set(name, s);
    }
    return s;
  };
  const unlisted: string[] = [];
  const storeName = (p: string): string => path.basename(p).slice(33);
  // A program built against the shared library (linkage built-against) holds no copy of it.
  const copies = findings.filter((f) => f.linkage !== 'built-against');
  for (const t of truth) {
    // An archive's truth covers its members (`app.jar!/natives/libfoo.so`), at any depth.
    const here = copies.filter((f) => storeName(f.storePath) === t.store && (f.file === t.file || f.file.startsWith(`${t.file}!/`)));
    for (const f of here) {
      if (t.expect.size === 0) {
        lib(f.library).falsePositives++;
        lib(f.library).problems.push(`${t.store}/${t.file}: reported ${f.library}@${f.version ?? '?'}, truth says none`);
      } else if (!t.expect.has(f.library)) unlisted.push(`${t.store}/${t.file}: ${f.library}@${f.version ?? '?'}`);
    }
    for (const [library, version] of t.expect) {
      const s = lib(library);
      const found = here.find((f) => f.library === library);
      if (!found) {
        s.falseNegatives++;
        s.problems.push(`${t.store}/${t.file}: ${library} not found`);
        continue;
      }
      s.truePositives++;
      if (version !== '?') {
        s.versionsExpected++;
        if (found.version === version) s.versionsExact++;
        else s.problems.push(`${t.store}/${t.file}: ${library} version ${found.version ?? `unknown (${found.versionRaw ?? '-'})`}, truth ${version}`);
      } else if (found.version !== null) {
        s.problems.push(`${t.store}/${t.file}: ${library} version ${found.version} where the truth knows none (not counted)`);
      }
    }
  }
  return { libraries, unlisted };
}
