// Every environment variable vendorscan reads, read once and validated here: a bad value is an
// error at start-up that names the variable, never a surprise an hour into a run. Commands and
// services receive a Config; nothing below services/ reads process.env for settings (the AWS SDK's
// own credential variables and PATH, for the decompressors, are theirs, not ours).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CacheOptions } from '../cache/binary-cache.ts';
import { parseNetrc } from '../cache/netrc.ts';
import { CronExpressionParser } from 'cron-parser';
import { VendorscanError } from '../errors/errors.ts';
import { DEFAULT_SIGNATURES_DIR } from '../signatures/loader.ts';
import { redactUrl as redact } from '../cache/open.ts';

export { redactUrl as redact } from '../cache/open.ts';

export const DEFAULT_CACHE = 'https://cache.nixos.org';
export const DEFAULT_CHANNELS_URL = 'https://channels.nixos.org';
export const DEFAULT_CRON = '0 3 * * 0'; // Sundays 03:00 UTC

export class ConfigError extends VendorscanError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('VS_CONFIG', 'config', `${variable}: ${message}`);
    this.variable = variable;
  }
}

export interface Config {
  /** Binary cache URL (http(s)://, file://, a directory, s3://). */
  cacheUrl: string;
  /** PostgreSQL; null: embedded PGlite in dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  /** Where an empty migrated embedded store is kept, copied into every new data dir; null: initdb each time. */
  storeTemplateDir: string | null;
  /** BullMQ on Redis; null: jobs run in-process. */
  redisUrl: string | null;
  queuePrefix: string;
  signaturesDir: string;
  /** Bearer token for writes; null: writes disabled. */
  apiToken: string | null;
  /** Scheduler: channels and cron (UTC). */
  channels: string[];
  cron: string;
  channelsUrl: string;
  /** How soon a dead worker's job is taken over. */
  stalledMs: number;
  port: number;
  host: string;
  /** Searches: a file whose matching takes longer is given up and reported timed out. */
  fileTimeoutMs: number;
  /** Searches: paths not scanned this long after the search started are reported timed out. */
  searchBudgetMs: number;
  /** Options every cache client gets: download deadline, allowed origins, netrc credentials. */
  cacheOptions: CacheOptions;
  /** Decoder limits for every NAR (largest zstd window / xz dictionary). */
  decompress: { maxWindowBytes: number };
  /** Reads (GET /v1/…) need this bearer token (or the write token); null: reads are open. */
  readToken: string | null;
  /** worker: how often the queue is checked for jobs lost with Redis. */
  reconcileMs: number;
  /** serve without Redis and scan, on PostgreSQL: heartbeat interval of this process as an owner of runs (store/owners.ts). */
  heartbeatMs: number;
  /** serve/worker: how long jobs in flight get to finish after SIGTERM before the process exits. */
  shutdownGraceMs: number;
  /** An extra folder of OSV advisories beside the bundled ones; null: the bundled ones only. */
  advisoriesDir: string | null;
  /** packages.json or `nix-env -qa --json --meta --out-path` output for attribution; null: none. */
  packagesFile: string | null;
  /** The triage file (TOML); null: nothing suppressed. The service reads it from here only. */
  triageFile: string | null;
}

/** One row per variable: the README's configuration table is checked against this list. */
export const CONFIG_VARIABLES: readonly { name: string; default: string; what: string }[] = [
  { name: 'VENDORSCAN_CACHE', default: DEFAULT_CACHE, what: 'binary cache: https://…, file:///dir, a directory, s3://bucket?region=R[&endpoint=URL]; the service takes it from here only, never from a request' },
  { name: 'DATABASE_URL', default: 'embedded PGlite', what: 'PostgreSQL for results (postgres:// or postgresql://)' },
  { name: 'VENDORSCAN_DATA_DIR', default: './.vendorscan', what: 'embedded store when there is no DATABASE_URL (one process at a time)' },
  {
    name: 'VENDORSCAN_STORE_TEMPLATE',
    default: '$XDG_CACHE_HOME/vendorscan, else ~/.cache/vendorscan',
    what: 'folder of the empty migrated embedded store copied into each new data dir (PGlite initdb once per machine, not per data dir); `off`: none',
  },
  { name: 'REDIS_URL', default: 'none: jobs run in-process', what: 'BullMQ queue shared by serve, worker and scheduler (redis:// or rediss:// for TLS)' },
  { name: 'VENDORSCAN_QUEUE_PREFIX', default: 'vendorscan', what: 'Redis key prefix of the queues (several deployments on one Redis)' },
  { name: 'VENDORSCAN_SIGNATURES', default: 'the bundled signatures/', what: 'folder of YARA signature files' },
  { name: 'VENDORSCAN_API_TOKEN', default: 'none: writes disabled', what: 'bearer token for POST /v1/scans and POST /v1/searches' },
  { name: 'VENDORSCAN_CHANNELS', default: 'nixos-unstable', what: 'scheduler: channels to scan (comma list)' },
  { name: 'VENDORSCAN_CRON', default: DEFAULT_CRON, what: 'scheduler: when (cron, UTC)' },
  { name: 'VENDORSCAN_CHANNELS_URL', default: DEFAULT_CHANNELS_URL, what: 'where --channel NAME finds NAME/store-paths.xz' },
  { name: 'VENDORSCAN_STALLED_MS', default: '30000', what: "how soon a dead worker's job is taken over (ms, ≥ 1000)" },
  { name: 'VENDORSCAN_FILE_TIMEOUT_MS', default: '30000', what: 'searches: a file whose matching takes longer is given up and reported "timed out" (ms, 100 to 3600000)' },
  { name: 'VENDORSCAN_SEARCH_BUDGET_MS', default: '21600000', what: 'searches: store paths still unscanned this long after a search started are reported "timed out" (ms, 1000 to 604800000)' },
  { name: 'VENDORSCAN_RECONCILE_MS', default: '30000', what: 'worker: how often it checks for jobs the queue lost (Redis restarted without persistence); pending paths of running runs and searches are then enqueued again (ms, 100 to 3600000)' },
  { name: 'VENDORSCAN_HEARTBEAT_MS', default: '10000', what: 'serve without Redis, scan, on PostgreSQL: how often the process marks itself alive; a process silent for 3 intervals is taken for dead and its queued or running runs and searches are marked interrupted (ms, 100 to 600000)' },
  { name: 'VENDORSCAN_SHUTDOWN_GRACE_MS', default: '10000', what: 'serve, worker: after SIGTERM/SIGINT, how long jobs in flight get before the process exits (ms, 0 to 600000; unfinished jobs are retried)' },
  { name: 'VENDORSCAN_NETRC_FILE', default: 'none', what: "HTTP caches: credentials as Nix's netrc-file (machine HOST login USER password PASS), sent as Basic auth to that host only; credentials in the cache URL work too and are never shown" },
  { name: 'VENDORSCAN_ALLOWED_ORIGINS', default: "none: the cache's own origin only", what: 'HTTP caches: other origins (comma list of https://host[:port]) that narinfo URLs and redirects may lead to' },
  { name: 'VENDORSCAN_CACHE_TIMEOUT_MS', default: '30000', what: 'serve, worker: per cache request, until the answer and the longest silence inside a body (ms; `scan --timeout` for the CLI)' },
  { name: 'VENDORSCAN_DOWNLOAD_DEADLINE_MS', default: '1800000', what: 'HTTP caches: the longest one NAR download may take in all, however steadily bytes trickle (ms)' },
  { name: 'VENDORSCAN_MAX_WINDOW', default: '134217728 (128 MiB)', what: 'the largest zstd window or xz dictionary a NAR may ask for (bytes); checked on the compressed stream before any decoder allocates it' },
  { name: 'VENDORSCAN_READ_TOKEN', default: 'none: reads are open', what: 'bearer token every GET /v1/… needs (the write token works too); search patterns are shown only with the write token' },
  { name: 'PORT', default: '8080', what: 'serve: HTTP port' },
  { name: 'HOST', default: '127.0.0.1', what: 'serve: address to listen on' },
  { name: 'VENDORSCAN_ADVISORIES', default: 'the bundled advisories/ only', what: 'an extra folder of OSV advisories (same schema; a malformed file stops start-up naming file and field)' },
  { name: 'VENDORSCAN_PACKAGES', default: 'none: pname and version only', what: "packages listing for attribution: a channel's packages.json (.br/.gz too) or nix-env -qa --json --meta --out-path output" },
  { name: 'VENDORSCAN_TRIAGE', default: 'none: nothing suppressed', what: 'triage file (TOML [[suppress]] entries); the service reads it from here only, never from a request' },
];

/** VENDORSCAN_STORE_TEMPLATE, else the XDG cache folder; `off` (or no home to put it in): none. */
function storeTemplateDir(value: string | undefined, xdgCache: string | undefined, home: string | undefined): string | null {
  if (value !== undefined) return value === 'off' ? null : path.resolve(value);
  if (xdgCache !== undefined) return path.join(path.resolve(xdgCache), 'vendorscan');
  return home !== undefined ? path.join(home, '.cache', 'vendorscan') : null;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env): Config {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const url = (name: string, schemes: string[]): string | null => {
    const v = get(name);
    if (v === undefined) return null;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new ConfigError(name, `"${redact(v)}" is not a URL`);
    }
    if (!schemes.includes(u.protocol.slice(0, -1))) throw new ConfigError(name, `"${redact(v)}" must start with ${schemes.map((s) => `${s}://`).join(' or ')}`);
    return v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `"${v}" must be a whole number from ${min} to ${max}`);
    return n;
  };
  const filePath = (name: string): string | null => {
    const v = get(name);
    return v === undefined ? null : path.resolve(v);
  };
  const cacheUrl = get('VENDORSCAN_CACHE') ?? DEFAULT_CACHE;
  if (!/^(https?|file|s3):/i.test(cacheUrl) && !cacheUrl.startsWith('/') && !cacheUrl.startsWith('.')) {
    throw new ConfigError('VENDORSCAN_CACHE', `"${redact(cacheUrl)}" is not a cache URL: use https://…, file:///dir, a directory or s3://bucket?region=…`);
  }
  const channels = (get('VENDORSCAN_CHANNELS') ?? 'nixos-unstable').split(',').map((c) => c.trim()).filter((c) => c !== '');
  for (const c of channels) if (!CHANNEL_NAME.test(c)) throw new ConfigError('VENDORSCAN_CHANNELS', `"${c}" is not a channel name`);
  const cron = get('VENDORSCAN_CRON') ?? DEFAULT_CRON;
  checkCron('VENDORSCAN_CRON', cron);
  const prefix = get('VENDORSCAN_QUEUE_PREFIX') ?? 'vendorscan';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new ConfigError('VENDORSCAN_QUEUE_PREFIX', `"${prefix}" must be 1 to 64 letters, digits or _ . : -`);
  return {
    cacheUrl,
    databaseUrl: url('DATABASE_URL', ['postgres', 'postgresql']),
    dataDir: path.resolve(get('VENDORSCAN_DATA_DIR') ?? '.vendorscan'),
    storeTemplateDir: storeTemplateDir(get('VENDORSCAN_STORE_TEMPLATE'), get('XDG_CACHE_HOME'), get('HOME')),
    redisUrl: url('REDIS_URL', ['redis', 'rediss']),
    queuePrefix: prefix,
    signaturesDir: get('VENDORSCAN_SIGNATURES') ?? DEFAULT_SIGNATURES_DIR,
    apiToken: get('VENDORSCAN_API_TOKEN') ?? null,
    channels,
    cron,
    channelsUrl: url('VENDORSCAN_CHANNELS_URL', ['http', 'https', 'file']) ?? DEFAULT_CHANNELS_URL,
    stalledMs: int('VENDORSCAN_STALLED_MS', 30_000, 1000, 24 * 3600 * 1000),
    port: int('PORT', 8080, 1, 65535),
    fileTimeoutMs: int('VENDORSCAN_FILE_TIMEOUT_MS', 30_000, 100, 3600 * 1000),
    cacheOptions: {
      timeoutMs: int('VENDORSCAN_CACHE_TIMEOUT_MS', 30_000, 100, 3600 * 1000),
      deadlineMs: int('VENDORSCAN_DOWNLOAD_DEADLINE_MS', 30 * 60 * 1000, 1000, 7 * 24 * 3600 * 1000),
      allowedOrigins: origins(get('VENDORSCAN_ALLOWED_ORIGINS')),
      credentials: netrc(get('VENDORSCAN_NETRC_FILE')),
    },
    decompress: { maxWindowBytes: int('VENDORSCAN_MAX_WINDOW', 128 * 1024 * 1024, 1024 * 1024, 4 * 1024 * 1024 * 1024) },
    readToken: get('VENDORSCAN_READ_TOKEN') ?? null,
    reconcileMs: int('VENDORSCAN_RECONCILE_MS', 30_000, 100, 3600 * 1000),
    heartbeatMs: int('VENDORSCAN_HEARTBEAT_MS', 10_000, 100, 600 * 1000),
    shutdownGraceMs: int('VENDORSCAN_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    searchBudgetMs: int('VENDORSCAN_SEARCH_BUDGET_MS', 6 * 3600 * 1000, 1000, 7 * 24 * 3600 * 1000),
    host: get('HOST') ?? '127.0.0.1',
    advisoriesDir: filePath('VENDORSCAN_ADVISORIES'),
    packagesFile: filePath('VENDORSCAN_PACKAGES'),
    triageFile: filePath('VENDORSCAN_TRIAGE'),
  };
}

function origins(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((o) => o.trim()).filter((o) => o !== '').map((o) => {
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw new ConfigError('VENDORSCAN_ALLOWED_ORIGINS', `"${redact(o)}" is not an origin such as https://host:port`);
    }
    if (!/^https?:$/.test(u.protocol) || u.username || u.password || (u.pathname !== '/' && u.pathname !== '')) {
      throw new ConfigError('VENDORSCAN_ALLOWED_ORIGINS', `"${redact(o)}" is not an origin such as https://host:port (no path, no credentials)`);
    }
    return u.origin;
  });
}

function netrc(file: string | undefined): CacheOptions['credentials'] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('VENDORSCAN_NETRC_FILE', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseNetrc(text, file);
  } catch (err) {
    throw new ConfigError('VENDORSCAN_NETRC_FILE', err instanceof Error ? err.message : String(err));
  }
}

export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Throws a ConfigError naming `source` (a variable or a flag) when `cron` is not a cron expression. */
export function checkCron(source: string, cron: string): void {
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
  } catch (err) {
    throw new ConfigError(source, `"${cron}" is not a cron expression (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Every URL inside `text` with its credentials redacted (answers, reasons, logs). */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^@/?#\s"']*@/gi, (m) => redact(m));
}

/** Where results are kept, in words. */
export function describeStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  return config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.dataDir}`;
}
