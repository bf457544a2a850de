// Scan pools by (cache, rule set): a worker serves runs with the bundled signatures and searches
// with their own rules, each compiled once in its own threads, reused while jobs keep coming.
// One ceiling for all: runs get `threads` scan threads; searches get one scan process each, at most
// `threads` searches at once (an idle search's process is closed to make room, a busy one is
// waited for). However many searches arrive, a worker never holds more than 2 × threads scanners.
import { ScanThreadPool } from '../../scanner/scan-thread-pool.ts';
import type { ScanThreadConfig } from '../../scanner/scan-thread-protocol.ts';
import type { RuleSource } from '../../yara/rule-source.ts';
import type { CacheOptions } from '../../cache/binary-cache.ts';
import type { DecompressOptions } from '../../decompress/decompress.ts';

export interface ScanThreadPoolsOptions {
  threads: number;
  cacheOptions: CacheOptions;
  decompress?: DecompressOptions;
  /** Close a pool after this long without jobs (searches end; their rules need not stay). */
  idleMs?: number;
}

interface Entry {
  pool: Promise<ScanThreadPool>;
  lastUsed: number;
  search: boolean;
  /** A search pool holds one of the search slots from the moment it may start. */
  holdsSlot: boolean;
  started: ScanThreadPool | null;
}

export class ScanThreadPools {
  private readonly pools = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;
  /** The most scan threads and processes alive at once so far (the ceiling is 2 × threads). */
  highWater = 0;

  private readonly options: ScanThreadPoolsOptions;
  constructor(options: ScanThreadPoolsOptions) {
    this.options = options;
    this.timer = setInterval(() => void this.closeIdle(), 10_000);
    this.timer.unref();
  }

  /** `fileTimeoutMs`: untrusted rules, matched in child processes that are killed past it (see ScanThreadPool). */
  get(cacheUrl: string, key: string, ruleSources: RuleSource[], binaryOnly: boolean, fileTimeoutMs?: number): Promise<ScanThreadPool> {
    const id = `${cacheUrl}\0${key}`;
    let entry = this.pools.get(id);
    if (!entry) {
      const config: ScanThreadConfig = { cacheUrl, cacheOptions: this.options.cacheOptions, ruleSources, binaryOnly, matchOptions: {}, decompress: this.options.decompress ?? {}, ...(fileTimeoutMs !== undefined ? { fileTimeoutMs } : {}) };
      const search = fileTimeoutMs !== undefined;
      const created: Entry = { pool: Promise.resolve(null as unknown as ScanThreadPool), lastUsed: Date.now(), search, holdsSlot: false, started: null };
      created.pool = (async () => {
        if (search) await this.searchSlot(created);
        const pool = await ScanThreadPool.start(config, search ? 1 : this.options.threads);
        created.started = pool;
        this.highWater = Math.max(this.highWater, this.live());
        return pool;
      })();
      created.pool.catch(() => this.pools.delete(id));
      this.pools.set(id, created);
      entry = created;
    }
    entry.lastUsed = Date.now();
    return entry.pool;
  }

  private live(): number {
    let n = 0;
    for (const e of this.pools.values()) n += e.started?.size ?? 0;
    return n;
  }

  /** Waits until this search may start a scan process: fewer than `threads` search pools hold a slot. */
  private async searchSlot(entry: Entry): Promise<void> {
    const max = Math.max(1, this.options.threads);
    for (;;) {
      const holders = [...this.pools.entries()].filter(([, e]) => e.search && e.holdsSlot);
      if (holders.length < max) {
        entry.holdsSlot = true; // checked and taken in one turn: no other caller can take it between
        return;
      }
      const idle = holders.filter(([, e]) => e.started !== null && e.started.busy === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
      if (idle) {
        this.pools.delete(idle[0]);
        idle[1].holdsSlot = false;
        await idle[1].started?.close();
        continue;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async closeIdle(): Promise<void> {
    const idleMs = this.options.idleMs ?? 120_000;
    for (const [id, entry] of this.pools) {
      if (Date.now() - entry.lastUsed > idleMs && !id.endsWith('\0signatures') && (entry.started?.busy ?? 0) === 0) {
        this.pools.delete(id);
        await (await entry.pool.catch(() => null))?.close();
      }
    }
  }

  /** Stops the pool of `key` at once, whatever it is scanning (a cancelled search). */
  async drop(cacheUrl: string, key: string): Promise<void> {
    const id = `${cacheUrl}\0${key}`;
    const entry = this.pools.get(id);
    this.pools.delete(id);
    if (entry) entry.holdsSlot = false;
    await (await entry?.pool.catch(() => null))?.kill();
  }

  /** `force`: kill what is running instead of letting it finish (shutdown after a grace period). */
  async close(force = false): Promise<void> {
    clearInterval(this.timer);
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (e) => {
      const pool = await e.pool.catch(() => null);
      await (force ? pool?.kill() : pool?.close());
    }));
  }
}
