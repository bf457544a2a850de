// A whole run in this process (no Redis): stream the source through the scan pool, storing each
// path's result as it settles, then close the run. Used by `vendorscan scan` and, without
// REDIS_URL, by the API.
import type { Database } from '../../store/database.ts';
import { completeRunIfSettled, markRunFailed, markRunStarted, recordPathResult, setRunTotal } from '../../store/runs.ts';
import { openBinaryCache } from '../../cache/open.ts';
import { parseStorePath } from '../../nix/store-path.ts';
import { runScan, type ScanRequest, type ScanSummary } from '../../scanner/scan.ts';
import { incrementalPrepare } from './incremental.ts';
import { setTotalFromRegistered } from '../../store/interrupted.ts';

export interface InProcessRun extends Omit<ScanRequest, 'prepare'> {
  db: Database;
  runId: number;
  rulesetDigest: string;
  /** Resuming an interrupted run: these paths are settled already and are not scanned again; the total is every registered path. */
  resume?: { settled: ReadonlySet<string> };
}

export async function runInProcess(run: InProcessRun): Promise<ScanSummary> {
  const { db, runId, rulesetDigest, onResult, resume, ...request } = run;
  const cache = openBinaryCache(request.cacheUrl, request.cacheOptions);
  await markRunStarted(db, runId);
  let valid = 0;
  async function* counted(paths: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
    for await (const p of paths) {
      if (resume?.settled.has(p)) continue;
      try {
        parseStorePath(p);
        valid++;
      } catch {
        // not a store path: it fails in the scan and is reported, but is no part of the run
      }
      yield p;
    }
  }
  try {
    const summary = await runScan({
      ...request,
      paths: counted(request.paths),
      prepare: incrementalPrepare(db, cache, rulesetDigest),
      onResult: async (result) => {
        await recordPathResult(db, runId, rulesetDigest, result);
        await onResult?.(result);
      },
    });
    if (resume) await setTotalFromRegistered(db, runId);
    else await setRunTotal(db, runId, valid);
    await completeRunIfSettled(db, runId);
    return summary;
  } catch (err) {
    await markRunFailed(db, runId, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    await cache.close();
  }
}
