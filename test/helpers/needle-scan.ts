// A scan of a few store paths for one literal needle, in this process (real scan threads, real
// YARA-X), with each path's result: the request the cache, hostile-cache and decompression tests
// share, so that each states only its cache options and what it expects.
import type { CacheOptions } from '../../cache/binary-cache.ts';
import type { PathResult } from '../../scanner/path-result.ts';
import { runScan, type ScanSummary } from '../../scanner/scan.ts';
import { needleRule } from '../../yara/rule-source.ts';

export async function needleScan(cacheUrl: string, paths: string[], needle: string, cacheOptions: CacheOptions = {}): Promise<{ summary: ScanSummary; results: PathResult[] }> {
  const results: PathResult[] = [];
  const summary = await runScan({
    cacheUrl,
    cacheOptions,
    ruleSources: [needleRule(needle, 1)],
    binaryOnly: false,
    matchOptions: {},
    decompress: {},
    paths,
    concurrency: 1,
    threads: 1,
    onResult: (r) => void results.push(r),
  });
  return { summary, results };
}
