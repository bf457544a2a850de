// A big results store for the dashboard's library page: one completed library scan of `paths`
// store paths with `perPath` findings each (libpng, or spread over the libraries given) (versions, unknown versions and confidences
// mixed), written through the store's own functions, one statement of findings per store path.
import type { Database } from '../../store/database.ts';
import { addRunPaths, completeRunIfSettled, createRun, markRunStarted, recordPathResult, setRunTotal } from '../../store/runs.ts';
import type { FileFinding } from '../../scanner/path-result.ts';

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
const VERSIONS = ['1.6.34', '1.6.37', '1.6.39', '1.6.40', '1.6.43', '1.6.44', null];
const CONFIDENCES = ['high', 'medium', 'low'] as const;

function hash(i: number): string {
  let s = '';
  let n = i + 1;
  for (let k = 0; k < 32; k++) {
    s += BASE32[(n + k * 7) % 32];
    n = Math.floor(n / 32) || k + i;
  }
  return s;
}

export function syntheticPath(i: number): string {
  return `/nix/store/${hash(i)}-app${i}-${1 + (i % 9)}.${i % 17}`;
}

/** Seeds the store; returns the run id. Finding j of a path is of `libraries[j % libraries.length]`. */
export async function seedManyFindings(db: Database, paths = 1000, perPath = 100, libraries: readonly string[] = ['libpng']): Promise<number> {
  const storePaths = Array.from({ length: paths }, (_, i) => syntheticPath(i));
  const runId = await createRun(db, { source: { kind: 'paths', label: `${paths} synthetic paths` }, cacheUrl: 'file:///nowhere', rulesetDigest: 'd'.repeat(64) });
  await markRunStarted(db, runId);
  await addRunPaths(db, runId, storePaths);
  await setRunTotal(db, runId, paths);
  for (const [i, storePath] of storePaths.entries()) {
    const findings: FileFinding[] = Array.from({ length: perPath }, (_, j) => {
      const version = VERSIONS[(i + j) % VERSIONS.length] ?? null;
      return {
        storePath,
        file: `lib/plugin-${String(j).padStart(3, '0')}.so`,
        library: libraries[j % libraries.length] ?? 'libpng',
        version,
        versionRaw: version,
        rule: 'libpng_version_string',
        confidence: CONFIDENCES[(i * 3 + j) % 3] ?? 'high',
        evidence: 'version-string',
        vendored: true,
        linkage: 'copy',
        linkageReason: 'defines png_get_libpng_ver',
        matches: [],
      };
    });
    await recordPathResult(db, runId, 'd'.repeat(64), {
      storePath,
      status: 'scanned',
      narHash: `sha256:${hash(i + 7)}${hash(i + 9).slice(0, 20)}`,
      narSize: 1000,
      downloadedBytes: 500,
      narBytes: 1000,
      files: perPath,
      findings,
      durationMs: 1,
    });
  }
  await completeRunIfSettled(db, runId);
  return runId;
}
