// Scan pools by (cache, rule set): a worker serves runs with the bundled signatures and searches
// with their own rules, each compiled once in its own threads, reused while jobs keep coming.
import { ScanThreadPool } from '../../scanner/scan-thread-pool.ts';
import type { ScanThreadConfig } from '../../scanner/scan-thread-protocol.ts';
import type { RuleSource } from '../../yara/rule-source.ts';
import type { CacheOptions } from '../../cache/binary-cache.ts';

export interface ScanThreadPoolsOptions {
  threads: number;
  cacheOptions: CacheOptions;
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

  get(cacheUrl: string, key: string, ruleSources: RuleSource[], binaryOnly: boolean): Promise<ScanThreadPool> {
    const id = `${cacheUrl}\0${key}`;
    let entry = this.pools.get(id);
    if (!entry) {
      const config: ScanThreadConfig = { cacheUrl, cacheOptions: this.options.cacheOptions, ruleSources, binaryOnly, matchOptions: {}, decompress: {} };
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

  async close(): Promise<void> {
    clearInterval(this.timer);
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (e) => (await e.pool.catch(() => null))?.close()));
  }
}
