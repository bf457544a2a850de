// A pool of scan threads. Decompression runs in child processes and matching in these threads,
// so the main thread only hands out store paths and gathers results. A thread that dies fails
// the paths it held (with the reason) and is replaced: the scan goes on.
import { Worker as Thread } from 'node:worker_threads';
import type { PathResult } from './path-result.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import type { FromThread, ScanThreadConfig, ToThread } from './scan-thread-protocol.ts';

const entry = new URL('./scan-thread.ts', import.meta.url);

interface Pending {
  storePath: string;
  resolve(result: PathResult): void;
}

class ScanThread {
  readonly pending = new Map<number, Pending>();
  private readonly thread: Thread;
  readonly ready: Promise<void>;

  constructor(config: ScanThreadConfig, onBytes: (downloaded: number, nar: number) => void, onExit: (t: ScanThread, why: string) => void) {
    this.thread = new Thread(entry, { workerData: { config } });
    this.ready = new Promise((resolve, reject) => {
      this.thread.on('message', (msg: FromThread) => {
        switch (msg.type) {
          case 'ready':
            return resolve();
          case 'fatal':
            return reject(new Error(msg.message));
          case 'bytes':
            return onBytes(msg.downloaded, msg.nar);
          case 'result': {
            const p = this.pending.get(msg.id);
            this.pending.delete(msg.id);
            p?.resolve(msg.result);
            return;
          }
        }
      });
      this.thread.on('error', (err) => {
        reject(err);
        onExit(this, err.message);
      });
      this.thread.on('exit', (code) => {
        reject(new Error(`scan thread exited with code ${code} before it was ready`));
        onExit(this, `scan thread exited with code ${code}`);
      });
    });
  }

  scan(id: number, storePath: string, narInfo?: NarInfo): Promise<PathResult> {
    return new Promise((resolve) => {
      this.pending.set(id, { storePath, resolve });
      this.send(narInfo ? { type: 'scan', id, storePath, narInfo } : { type: 'scan', id, storePath });
    });
  }

  send(msg: ToThread): void {
    this.thread.postMessage(msg);
  }

  async close(): Promise<void> {
    this.send({ type: 'close' });
    await new Promise((resolve) => this.thread.once('exit', resolve));
  }
}

export class ScanThreadPool {
  private threads: ScanThread[] = [];
  private nextId = 0;
  private closing = false;

  private readonly config: ScanThreadConfig;
  private readonly onBytes: (downloaded: number, nar: number) => void;
  private constructor(config: ScanThreadConfig, onBytes: (downloaded: number, nar: number) => void) {
    this.config = config;
    this.onBytes = onBytes;
  }

  /** Starts `size` threads; rejects (e.g. with the rule compiler's error) if they cannot start. */
  static async start(config: ScanThreadConfig, size: number, onBytes: (d: number, n: number) => void = () => {}): Promise<ScanThreadPool> {
    const pool = new ScanThreadPool(config, onBytes);
    for (let i = 0; i < Math.max(1, size); i++) pool.threads.push(pool.spawn());
    try {
      await Promise.all(pool.threads.map((t) => t.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Scans one store path on the least busy thread. Never rejects: failures are results. */
  scan(storePath: string, narInfo?: NarInfo): Promise<PathResult> {
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return thread.scan(this.nextId++, storePath, narInfo);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.close().catch(() => undefined)));
    this.threads = [];
  }

  private spawn(): ScanThread {
    return new ScanThread(this.config, this.onBytes, (dead, why) => this.replace(dead, why));
  }

  private replace(dead: ScanThread, why: string): void {
    const index = this.threads.indexOf(dead);
    if (index < 0) return;
    for (const p of dead.pending.values()) p.resolve(threadDied(p.storePath, why));
    dead.pending.clear();
    if (this.closing) return;
    this.threads[index] = this.spawn();
  }
}

function threadDied(storePath: string, why: string): PathResult {
  return {
    storePath,
    status: 'failed',
    reason: `${storePath}: ${why}`,
    downloadedBytes: 0,
    narBytes: 0,
    files: 0,
    findings: [],
    durationMs: 0,
  };
}
