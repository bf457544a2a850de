// `vendorscan scan`: stream store paths from a cache through the pipeline and print findings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { loadSignatures, signatureDigest } from '../signatures/loader.ts';
import { compileRules, slowRuleWarnings } from '../yara/rules.ts';
import { openBinaryCache, redactUrl } from '../cache/open.ts';
import { parseStorePath, StorePathError } from '../nix/store-path.ts';
import { messageOf, VendorscanError } from '../errors/errors.ts';
import { needleRule, hexRule, type RuleSource } from '../yara/rule-source.ts';
import type { ScanRequest, ScanSummary } from '../scanner/scan.ts';
import type { ScanThreadConfig } from '../scanner/scan-thread-protocol.ts';
import type { RunSource } from '../store/runs.ts';
import type { Database } from '../store/database.ts';
import type { ProcessOwner } from '../store/owners.ts';
import type { StoreLocation } from '../store/migrate.ts';
import { describeStore, loadConfig, DEFAULT_CACHE } from '../services/config.ts';
import type { FileFinding } from '../scanner/path-result.ts';
import { readPathList } from '../workers/sources/path-list.ts';
import { ProgressBar } from './progress-bar.ts';
import { findingsTable, summaryText, type ReportedFinding } from './scan-report.ts';
import { evaluateCopies } from '../advisories/evaluate.ts';
import { loadDecisionContext } from '../services/decisions/context.ts';
import { findingTriage } from '../services/decisions/copies.ts';
import { jsonlLine, renderExport, rowFromFinding } from '../services/output/index.ts';
import { runCoverage, type RunCoverage } from '../store/coverage.ts';
import { FORMAT_USAGE, parseFormatFlag } from './output-format.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, positiveInt, type Command, type CommandIO } from './flags.ts';

const usage = `Usage: vendorscan scan [options]

Where to look:
  --cache URL          binary cache: https://…, file:///dir, s3://bucket?region=R[&endpoint=URL]
                       (default ${DEFAULT_CACHE}; env VENDORSCAN_CACHE)
  --requester-pays     S3: pay for the requests (the NixOS bucket nix-cache needs it)
  --path P             a store path (repeatable)
  --paths FILE|-       one store path per line
  --channel NAME       every path of a channel (https://channels.nixos.org/NAME/store-paths.xz;
                       env VENDORSCAN_CHANNELS_URL changes the host)
What to look for:
  --signatures DIR     YARA signature folder (default: the bundled signatures/)
  --rule FILE.yar      an ad-hoc YARA rule file (repeatable)
  --needle STRING      an ad-hoc literal string (repeatable)
  --hex PATTERN        an ad-hoc hex pattern such as "{ 4e 6f ?? 21 }" (repeatable)
                       (with ad-hoc rules, signatures are loaded only when --signatures is given)
  --allow-include      let --rule files use include (they may then read any local file)
  --force              run ad-hoc rules YARA-X flags as slow (each file is then matched
                       under VENDORSCAN_FILE_TIMEOUT_MS and reported "timed out" past it)
How:
  --concurrency N      store paths in flight (default: cores = ${availableParallelism()})
  --threads N          scan threads (default: min(cores, concurrency, number of --path))
  --max-file-size B    scan files whole up to B bytes, larger ones in windows (default 256 MiB)
  --window-size B      window for larger files (default 64 MiB)
  --timeout MS         per-request timeout (default 30000)
  --retries N          retries on 5xx and connection errors (default 4)
  ${FORMAT_USAGE}; jsonl: one finding per line as it is found
  --no-progress        no progress bar even on a TTY
  --resume RUN         finish run RUN, interrupted when its process died: the paths it settled
                       are kept, the rest scanned (its cache and source; give --path/--paths
                       again when the run was started from a path list)
Decisions (every finding says which advisories it falls under):
  --advisories DIR     more OSV advisories beside the bundled ones (env VENDORSCAN_ADVISORIES)
  --triage FILE        triage file: findings it suppresses are left out and counted in the summary
                       (env VENDORSCAN_TRIAGE)
  --include-suppressed also the findings the triage file hides, with its reasons
Exit codes:
  --allow-failures     exit 0 even if some store paths failed, when at least one was scanned
  --fail-on WHAT       exit 3 when the scan found such copies: vulnerable (a vendored copy in an
                       advisory's range), vendored (any vendored copy) or any (any finding)
  --no-store           do not keep the results (default: a run in the results store, DATABASE_URL
                       or embedded in VENDORSCAN_DATA_DIR; unchanged NARs are then not downloaded again)

Exit code 0: the scan completed; 1: it could not run (e.g. the cache cannot be opened) or some
store paths failed (listed in the summary); 2: bad arguments (a string that is not a store path,
a rule that does not compile); 3: --fail-on matched.
With --needle, --hex or --rule the run is an ad-hoc scan: kept, but never the answer of \`query\`.
`;

const options = {
  cache: { type: 'string' },
  'requester-pays': { type: 'boolean' },
  path: { type: 'string', multiple: true },
  paths: { type: 'string' },
  channel: { type: 'string' },
  signatures: { type: 'string' },
  rule: { type: 'string', multiple: true },
  needle: { type: 'string', multiple: true },
  hex: { type: 'string', multiple: true },
  'allow-include': { type: 'boolean' },
  force: { type: 'boolean' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  'max-file-size': { type: 'string' },
  'window-size': { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  format: { type: 'string' },
  'no-progress': { type: 'boolean' },
  'no-store': { type: 'boolean' },
  resume: { type: 'string' },
  'allow-failures': { type: 'boolean' },
  'fail-on': { type: 'string' },
  advisories: { type: 'string' },
  triage: { type: 'string' },
  'include-suppressed': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  usage,
  run: scanCommand,
};

const FAIL_ON = ['vulnerable', 'vendored', 'any'] as const;
type FailOn = (typeof FAIL_ON)[number];

async function scanCommand(argv: string[], io: CommandIO): Promise<number> {
  const v = parseFlags(argv, options);
  if (v.help) {
    io.stdout.write(usage);
    return 0;
  }
  const format = parseFormatFlag(v.format);
  const failOn = v['fail-on'] as FailOn | undefined;
  if (failOn !== undefined && !FAIL_ON.includes(failOn)) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}, got "${v['fail-on']}"`);
  const sourcesGiven = [v.path?.length ? 1 : 0, v.paths ? 1 : 0, v.channel ? 1 : 0].reduce((a, b) => a + b, 0);
  const resumeId = v.resume === undefined ? null : positiveInt('resume', v.resume, 0);
  if (resumeId !== null && v['no-store']) throw new UsageError('--resume continues a stored run: it cannot go with --no-store');
  if (sourcesGiven === 0 && resumeId === null) throw new UsageError('nothing to scan: give --path, --paths or --channel');
  if (sourcesGiven > 1) throw new UsageError('give only one of --path, --paths and --channel');
  for (const p of v.path ?? []) checkStorePath('--path', p);
  if (v.paths && v.paths !== '-') checkPathFile(v.paths);

  const cores = availableParallelism();
  const concurrency = positiveInt('concurrency', v.concurrency, cores);
  // A few --path arguments need no more threads than paths: each thread starts YARA-X and
  // compiles the rules (~0.3 s and ~40 MB each).
  const threads = positiveInt('threads', v.threads, Math.min(cores, concurrency, v.path?.length ?? Number.POSITIVE_INFINITY));
  const maxWholeFileSize = positiveInt('max-file-size', v['max-file-size'], 256 * 1024 * 1024);
  const windowSize = positiveInt('window-size', v['window-size'], Math.min(64 * 1024 * 1024, maxWholeFileSize));
  const timeoutMs = positiveInt('timeout', v.timeout, 30_000);
  const retries = positiveInt('retries', v.retries, 4, 0);

  const config = loadConfig(io.env);
  // The store starts opening first: PGlite's start is mostly waiting for its WebAssembly to compile
  // on V8's background threads, and the rules and advisories below are read and compiled meanwhile
  // (~0.1 s off every stored scan). Whatever stops the command before the scan closes it again.
  const opening = v['no-store'] ? null : openStore(config);
  opening?.catch(() => undefined);
  let handedOver = false;
  try {
    const ruleSources = buildRuleSources(v, config.signaturesDir);
    // Ad-hoc rules are compiled here so a bad one stops the scan before any download, with file, line
    // and column (the signatures were compiled, so checked, by loadSignatures). A library scan's
    // digest is the signatures' (contents and readers only), the same as the service's.
    const rulesetDigest = ruleSources.binaryOnly ? signatureDigest(ruleSources.sources) : compileRules(ruleSources.sources).digest;
    // Ad-hoc rules YARA-X flags as slow are refused unless forced (they then run with per-file time limits).
    const slow = slowRuleWarnings(ruleSources.adhoc);
    for (const w of slow) io.stderr.write(`warning: ${w.origin}${w.line !== null ? `:${w.line}:${w.column ?? 0}` : ''}: ${w.message}\n`);
    if (slow.length > 0 && !v.force) throw new UsageError('an ad-hoc rule may make every scan slow (warnings above): fix it, or give --force to run it with per-file time limits');

    let cacheUrl = cacheUrlFrom(v.cache ?? config.cacheUrl);
    const cacheOptions = { ...config.cacheOptions, timeoutMs, retries, requesterPays: v['requester-pays'] ?? false };
    const channelPaths = async (channel: string): Promise<AsyncIterable<string>> => (await import('../workers/sources/channel.ts')).channelStorePaths(channel, config.channelsUrl);
    let paths: AsyncIterable<string> | Iterable<string> = v.path ?? (v.paths ? readPathList(v.paths) : await channelPaths(v.channel ?? ''));

    const tty = 'isTTY' in io.stderr && io.stderr.isTTY ? (io.stderr as NodeJS.WriteStream) : null;
    const bar = tty && !v['no-progress'] ? new ProgressBar(tty) : null;
    const findings: ReportedFinding[] = [];
    let reused = 0;
    let matchedFailOn = 0;
    // Every finding says which advisories it falls under; the triage file's decisions leave it out.
    const decisions = loadDecisionContext({ advisoriesDir: v.advisories ?? config.advisoriesDir, packagesFile: null, triageFile: v.triage ?? config.triageFile });
    const includeSuppressed = v['include-suppressed'] ?? false;
    let suppressed = 0;
    const judge = (list: FileFinding[]): ReportedFinding[] => {
      const verdicts = evaluateCopies(list, decisions.advisories);
      return list.flatMap((f, i) => {
        const reported: ReportedFinding = { ...f, advisories: verdicts[i]?.advisories ?? [] };
        const triage = findingTriage(decisions, reported);
        if (triage.length === 0) return [reported];
        suppressed++;
        return includeSuppressed ? [{ ...reported, triage }] : [];
      });
    };
    const threadConfig: ScanThreadConfig = {
      cacheUrl,
      cacheOptions,
      ruleSources: ruleSources.sources,
      binaryOnly: ruleSources.binaryOnly,
      matchOptions: { maxWholeFileSize, windowSize },
      decompress: config.decompress,
      // Ad-hoc rules are matched in processes that are killed when a file takes too long.
      ...(ruleSources.adhoc.length > 0 ? { fileTimeoutMs: config.fileTimeoutMs } : {}),
    };
    // The scan pipeline is loaded only now (not for --help, nor a bad flag), and its threads start
    // while the store opens: their start (YARA-X, the rules) was ~0.3 s after it. A run whose paths
    // all prove unchanged closes them unused. Not when resuming: the run's cache URL is not known yet.
    const { runScan, StartedScanThreads } = await import('../scanner/scan.ts');
    const startedThreads = resumeId === null ? new StartedScanThreads(threadConfig, threads) : undefined;
    try {
      const opened = await opening;
      handedOver = true;
      return await scanWith(opened?.store ?? null, opened?.db ?? null);
    } finally {
      await startedThreads?.release();
    }

    async function scanWith(store: Store | null, db: Database | null): Promise<number> {
      // The owner (PostgreSQL) and the database are released on every way out, once: a run that
      // could not be created or claimed left the pool and the heartbeat open, and the process never exited.
      let owner: ProcessOwner | null = null;
      let released = false;
      const release = async (): Promise<void> => {
        if (released) return;
        released = true;
        try {
          await owner?.close();
        } finally {
          await db?.close();
        }
      };
      try {
        return await scanStored();
      } finally {
        await release();
      }

      async function scanStored(): Promise<number> {
        // On PostgreSQL, runs of processes that stopped beating are interrupted first (a run killed with -9 can then be resumed).
        if (db && store && db.kind === 'postgres') await store.interruptDeadOwners(db);
        const source: RunSource = v.channel ? { kind: 'channel', channel: v.channel, label: `channel ${v.channel}` } : v.paths ? { kind: 'paths', label: `paths from ${v.paths}` } : { kind: 'path', label: (v.path ?? []).join(' ') };
        let resume: { settled: ReadonlySet<string> } | undefined;
        if (db && store && resumeId !== null) {
          const reopened = await store.reopenInterruptedRun(db, resumeId, rulesetDigest);
          // The store keeps the cache URL without credentials: the configured one, when it is the same cache, keeps them.
          if (redactUrl(cacheUrl) !== reopened.run.cacheUrl) cacheUrl = reopened.run.cacheUrl;
          resume = { settled: reopened.settled };
          if (sourcesGiven === 0) {
            const src = reopened.run.source;
            if (src.kind === 'channel' && src.channel) paths = await channelPaths(src.channel);
            else if (reopened.pending.length > 0) paths = reopened.pending;
            else {
              throw new UsageError(`run ${resumeId} was started from a path list, which the store did not keep: give the same --path or --paths again`);
            }
          }
        }
        await checkCacheOpens(cacheUrl, cacheOptions);
        const runId = db && store ? (resumeId ?? (await store.createRun(db, { source, cacheUrl: redactUrl(cacheUrl), rulesetDigest, kind: ruleSources.binaryOnly ? 'library-scan' : 'adhoc-scan' }))) : null;
        // This process owns its run while it scans, and beats: if it dies, another process marks the run interrupted.
        owner = db && store && runId !== null && db.kind === 'postgres' ? await store.startOwner(db, { intervalMs: config.heartbeatMs, command: 'scan', onEvent: (m) => io.stderr.write(`vendorscan: ${m}\n`) }) : null;
        if (owner && runId !== null) await owner.claimRun(runId);
        const request: ScanRequest = {
          ...threadConfig,
          cacheUrl,
          ...(startedThreads ? { startedThreads } : {}),
          paths,
          concurrency,
          threads,
          onProgress: (p) => bar?.update(p),
          onResult: (r) => {
            if (r.linkedNarScan !== undefined) reused++;
            const reported = judge(r.findings);
            if (failOn) matchedFailOn += reported.filter((f) => f.triage === undefined && matchesFailOn(failOn, f)).length;
            if (format === 'jsonl') for (const f of reported) io.stdout.write(jsonlLine(rowFromFinding(f), runId, { matches: f.matches }));
            else findings.push(...reported);
          },
        };
        const summary: ScanSummary = db && store && runId !== null ? await store.runInProcess({ ...request, db, runId, rulesetDigest, ...(resume ? { resume } : {}) }) : await runScan(request);
        const coverage: RunCoverage | null = db && store && runId !== null && format !== 'table' && format !== 'jsonl' ? await runCoverage(db, runId) : null;
        // Released before the report is written (scanWith's finally releases on every other way out).
        await release();
        bar?.clear();
        if (format === 'table') io.stdout.write(findingsTable(findings));
        else if (format !== 'jsonl') io.stdout.write(renderExport(format, { rows: findings.map(rowFromFinding).sort(byLocation), coverage }));
        io.stderr.write(summaryText(summary, reused));
        if (suppressed > 0) io.stderr.write(`${suppressed} finding${suppressed === 1 ? '' : 's'} suppressed by triage${includeSuppressed ? ' (shown)' : ' (--include-suppressed shows them)'}.\n`);
        if (runId !== null) io.stderr.write(`Stored as run ${runId} (${ruleSources.binaryOnly ? 'a library scan' : 'an ad-hoc scan: never the answer of `query`'}) in ${describeStore(config)}.\n`);
        if (summary.failed > 0 && !(v['allow-failures'] && summary.scanned > 0)) {
          io.stderr.write(`${summary.failed} store path${summary.failed === 1 ? '' : 's'} failed: exit code 1${summary.scanned > 0 ? ' (--allow-failures accepts a partial scan)' : ''}.\n`);
          return 1;
        }
        if (summary.scanned === 0 && summary.notInCache === summary.total && summary.total > 0) {
          io.stderr.write(`None of the ${summary.total} store paths is in ${redactUrl(cacheUrl)}: nothing was scanned.\n`);
          return 1;
        }
        if (failOn && matchedFailOn > 0) {
          io.stderr.write(`--fail-on ${failOn}: ${matchedFailOn} finding${matchedFailOn === 1 ? '' : 's'} matched: exit code 3.\n`);
          return 3;
        }
        return 0;
      }
    }
  } finally {
    if (!handedOver) await (await opening?.catch(() => null))?.db.close();
  }
}

/** Scan results arrive in completion order; exports list them by store path, file and library. */
function byLocation(a: { storePath: string; file: string; library: string }, b: typeof a): number {
  return a.storePath.localeCompare(b.storePath) || a.file.localeCompare(b.file) || a.library.localeCompare(b.library);
}

function matchesFailOn(failOn: FailOn, f: ReportedFinding): boolean {
  if (failOn === 'any') return true;
  if (!f.vendored) return false;
  return failOn === 'vendored' || f.advisories.length > 0;
}

function checkStorePath(flag: string, p: string): void {
  try {
    parseStorePath(p);
  } catch (err) {
    if (err instanceof StorePathError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

/** Every line of a path list must be a store path: a typo is a bad argument, not a scan of nothing. */
function checkPathFile(file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--paths ${file}: ${messageOf(err)}`);
  }
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) checkStorePath(`--paths ${file} line ${i + 1}`, line);
  });
}

/** A cache that cannot be opened stops the scan at start (exit 1): it is not an empty cache. */
async function checkCacheOpens(cacheUrl: string, options: { timeoutMs: number; retries: number; requesterPays: boolean }): Promise<void> {
  const cache = openBinaryCache(cacheUrl, options);
  try {
    await cache.cacheInfo();
  } catch (err) {
    throw new CacheUnavailableError(`the binary cache ${redactUrl(cacheUrl)} cannot be opened: ${messageOf(err)}`);
  } finally {
    await cache.close();
  }
}

type Store = Awaited<ReturnType<typeof loadStore>>;

async function openStore(config: StoreLocation): Promise<{ store: Store; db: Database }> {
  const store = await loadStore();
  return { store, db: await store.openResultsStore(config) };
}

async function loadStore() {
  const [migrate, runs, inProcess, interrupted, owners] = await Promise.all([
    import('../store/migrate.ts'),
    import('../store/runs.ts'),
    import('../workers/runs/run-in-process.ts'),
    import('../store/interrupted.ts'),
    import('../store/owners.ts'),
  ]);
  return {
    openResultsStore: migrate.openResultsStore,
    createRun: runs.createRun,
    runInProcess: inProcess.runInProcess,
    reopenInterruptedRun: interrupted.reopenInterruptedRun,
    interruptDeadOwners: owners.interruptDeadOwners,
    startOwner: owners.startOwner,
  };
}

/** Nix spells local caches file:///abs/dir; a bare directory is accepted and made absolute. */
export function cacheUrlFrom(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  return pathToFileURL(path.resolve(value)).href;
}

interface BuiltRules {
  sources: RuleSource[];
  /** The ad-hoc ones (--rule, --needle, --hex): untrusted, so checked for slow patterns and time-limited. */
  adhoc: RuleSource[];
  /** Only library signatures: files that are not binary objects can be skipped. */
  binaryOnly: boolean;
}

function buildRuleSources(v: { signatures?: string; rule?: string[]; needle?: string[]; hex?: string[]; 'allow-include'?: boolean }, signaturesDir: string): BuiltRules {
  const adhoc: RuleSource[] = [];
  for (const file of v.rule ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--rule ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    adhoc.push({ origin: file, text, ...(v['allow-include'] ? { allowIncludes: true } : {}) });
  }
  for (const [i, n] of (v.needle ?? []).entries()) adhoc.push(needleRule(n, i + 1));
  for (const [i, h] of (v.hex ?? []).entries()) adhoc.push(hexRule(h, i + 1));
  const withSignatures = adhoc.length === 0 || v.signatures !== undefined;
  const signatures = withSignatures ? loadSignatures(v.signatures ?? signaturesDir).sources : [];
  return { sources: [...signatures, ...adhoc], adhoc, binaryOnly: adhoc.length === 0 };
}

class CacheUnavailableError extends VendorscanError {
  constructor(message: string) {
    super('VS_CACHE_UNAVAILABLE', 'unavailable', message);
  }
}
