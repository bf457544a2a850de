// The incremental step before a scan: fetch the narinfo, and if this NAR was already scanned with
// the same ruleset, settle the path by linking that scan: no download.
import type { Queryable } from '../../store/database.ts';
import { findNarScans, narScanFindings, narScanWarnings } from '../../store/runs.ts';
import type { BinaryCache } from '../../cache/binary-cache.ts';
import type { NarInfo } from '../../nix/narinfo.ts';
import { parseStorePath } from '../../nix/store-path.ts';
import type { Prepared } from '../../scanner/scan.ts';
import type { PathResult } from '../../scanner/path-result.ts';

function settled(storePath: string, status: PathResult['status'], extra: Partial<PathResult> = {}): PathResult {
  return { storePath, status, downloadedBytes: 0, narBytes: 0, files: 0, findings: [], durationMs: 0, ...extra };
}

/** What a batch of store paths needs: settled ones are done, the others are scanned (with their narinfo when it was read). */
export interface PreparedBatch {
  settled: PathResult[];
  toScan: { storePath: string; narInfo?: NarInfo }[];
}

/**
 * Prepares many store paths at once: their narinfos (concurrently, within the cache's request
 * limit) and one query for the stored scans of all their NARs. A narinfo that cannot be read is
 * left to the scan, which fetches it again and reports why it failed.
 */
export async function prepareBatch(db: Queryable, cache: BinaryCache, rulesetDigest: string, storePaths: string[]): Promise<PreparedBatch> {
  const looked = await Promise.all(
    storePaths.map(async (input) => {
      try {
        const { path, hash } = parseStorePath(input);
        return { storePath: path, info: await cache.narInfo(hash) };
      } catch {
        return { storePath: input, info: undefined };
      }
    }),
  );
  const known = looked.flatMap((l) => (l.info ? [l.info.narHash] : []));
  const scans = await findNarScans(db, known, rulesetDigest);
  const batch: PreparedBatch = { settled: [], toScan: [] };
  for (const { storePath, info } of looked) {
    if (info === undefined) batch.toScan.push({ storePath });
    else if (info === null) batch.settled.push(settled(storePath, 'not-in-cache'));
    else {
      const existing = scans.get(info.narHash);
      if (existing !== undefined) batch.settled.push(settled(storePath, 'scanned', { narHash: info.narHash, narSize: info.narSize, linkedNarScan: existing }));
      else batch.toScan.push({ storePath, narInfo: info });
    }
  }
  return batch;
}

/** One path at a time, for a streamed scan; `withFindings` loads the linked scan's findings (for output). */
export function incrementalPrepare(db: Queryable, cache: BinaryCache, rulesetDigest: string, withFindings = true): (storePath: string) => Promise<Prepared> {
  return async (input) => {
    const { settled: [done], toScan: [next] } = await prepareBatch(db, cache, rulesetDigest, [input]);
    if (done) {
      if (withFindings && done.linkedNarScan !== undefined) {
        done.findings = await narScanFindings(db, done.linkedNarScan, done.storePath);
        const warnings = await narScanWarnings(db, done.linkedNarScan);
        if (warnings.length > 0) done.warnings = warnings;
      }
      return { done };
    }
    return next?.narInfo ? { narInfo: next.narInfo } : null;
  };
}
