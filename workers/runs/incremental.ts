// The incremental step before a scan: fetch the narinfo in the main thread, and if this NAR was
// already scanned with the same ruleset, settle the path by linking that scan: no download.
import type { Queryable } from '../../store/database.js';
import { findNarScan, narScanFindings } from '../../store/runs.js';
import type { BinaryCache } from '../cache/binary-cache.js';
import { parseStorePath } from '../cache/store-path.js';
import type { Prepared } from '../scan/scan.js';
import type { PathResult } from '../scan/path-result.js';

function settled(storePath: string, status: PathResult['status'], extra: Partial<PathResult> = {}): PathResult {
  return { storePath, status, downloadedBytes: 0, narBytes: 0, files: 0, findings: [], durationMs: 0, ...extra };
}

/** `withFindings`: load the linked scan's findings into the result (for output; stores need none). */
export function incrementalPrepare(db: Queryable, cache: BinaryCache, rulesetDigest: string, withFindings = true): (storePath: string) => Promise<Prepared> {
  return async (input) => {
    let path: string;
    let hash: string;
    try {
      ({ path, hash } = parseStorePath(input));
    } catch {
      return null; // the scan thread reports why
    }
    const info = await cache.narInfo(hash);
    if (info === null) return { done: settled(path, 'not-in-cache') };
    const existing = await findNarScan(db, info.narHash, rulesetDigest);
    if (existing !== null) {
      const findings = withFindings ? await narScanFindings(db, existing, path) : [];
      return { done: settled(path, 'scanned', { narHash: info.narHash, narSize: info.narSize, linkedNarScan: existing, findings }) };
    }
    return { narInfo: info };
  };
}
