// Scan pools by (cache, rule set): a worker serves runs with the bundled signatures and searches
// with their own rules, each compiled once in its own threads, reused while jobs keep coming.
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
}

export class ScanThreadPools {
  private readonly pools = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;

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
      entry = { pool: ScanThreadPool.start(config, this.options.threads), lastUsed: Date.now() };
      entry.pool.catch(() => this.pools.delete(id));
      this.pools.set(id, entry);
    }
    entry.lastUsed = Date.now();
    return entry.pool;
  }

  private async closeIdle(): Promise<void> {
    const idleMs = this.options.idleMs ?? 120_000;
    for (const [id, entry] of this.pools) {
      if (Date.now() - entry.lastUsed > idleMs && !id.endsWith('\0signatures')) {
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
