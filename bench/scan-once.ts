// One scan in its own process, so the benchmark can read that process's peak RSS.
// Usage: scan-once.ts CACHE_DIR CONCURRENCY PATH...
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { availableParallelism } from 'node:os';

// As bin/vendorscan.mjs does: the stripped and compiled modules come from Node's compile cache,
// in this thread and (through the environment) in the scan threads; so the pipeline's modules are
// imported only once the cache is on (static imports would be stripped before it).
const compileCache = module.enableCompileCache?.(process.env['NODE_COMPILE_CACHE'] || undefined);
if (compileCache?.directory) process.env['NODE_COMPILE_CACHE'] = compileCache.directory;
const [{ loadSignatures, DEFAULT_SIGNATURES_DIR }, { runScan }, { needleRule }] = await Promise.all([
  import('../signatures/loader.ts'),
  import('../scanner/scan.ts'),
  import('../yara/rule-source.ts'),
]);
const [cacheDir, concurrencyArg, ...paths] = process.argv.slice(2);
const concurrency = Number(concurrencyArg) || availableParallelism();
// When each path ended (ms into the scan phase) and how long it took: where the scan phase went.
const ended: { storePath: string; at: number; durationMs: number }[] = [];
const summary = await runScan({
  cacheUrl: `file://${cacheDir}`,
  cacheOptions: {},
  // BENCH_TRIVIAL=1: one rare needle, to see the pipeline's ceiling without matching cost.
  // Not compiled here first: the CLI does that while its store opens, off the scan's path.
  ruleSources: process.env['BENCH_TRIVIAL'] ? [needleRule('vendorscan-not-there-9f2c', 1)] : loadSignatures(DEFAULT_SIGNATURES_DIR, { compile: false }).sources,
  binaryOnly: true,
  matchOptions: {},
  decompress: {},
  paths,
  concurrency,
  threads: Number(process.env['BENCH_THREADS']) || Math.min(concurrency, availableParallelism()),
  onResult: (r) => void ended.push({ storePath: r.storePath, at: Date.now(), durationMs: r.durationMs }),
});
const phaseStart = Date.now() - summary.elapsedMs;
const timeline = ended.map((e) => ({ storePath: e.storePath, endMs: e.at - phaseStart, durationMs: e.durationMs }));
const own = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    narBytes: summary.narBytes,
    elapsedMs: summary.elapsedMs,
    startupMs: summary.startupMs,
    failed: summary.failures,
    findings: summary.findings,
    scanned: summary.scanned,
    maxRssBytes: own.maxRSS * 1024,
    // CPU of this process (scan threads: matching, hashing, parsing; start-up) and of the reaped
    // children (the decompressors), from getrusage and /proc/self/stat's cutime and cstime.
    ownCpuMs: (own.userCPUTime + own.systemCPUTime) / 1000,
    childCpuMs: childCpuMs(),
    timeline,
  })}\n`,
);

/** CPU time of this process's waited-for children, in ms (USER_HZ is 100 on Linux); null off Linux. */
function childCpuMs(): number | null {
  try {
    // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and 15th.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}
