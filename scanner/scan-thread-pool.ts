// A pool of scan threads. Decompression runs in child processes and matching in these threads,
// so the main thread only hands out store paths and gathers results. A thread that dies fails
// the paths it held (with the reason) and is replaced: the scan goes on.
//
// Isolated mode (config.fileTimeoutMs, for untrusted search rules): each scan "thread" is a child
// process, because YARA-X cannot interrupt a scan and a worker thread cannot be stopped inside
// native code. The process announces each file it matches; one stuck past the limit is killed,
// the file is reported timed out, and the paths it held are sent again (the timed-out file skipped).
import { fork, type ChildProcess } from 'node:child_process';
import { Worker as Thread } from 'node:worker_threads';
import type { PathResult } from './path-result.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import type { FromThread, ScanThreadConfig, ToThread } from './scan-thread-protocol.ts';

const entry = new URL('./scan-thread.ts', import.meta.url);

/** A path whose files time out this often is given up as failed. */
const MAX_TIMEOUTS_PER_PATH = 3;
/** A path is sent again at most this often after its process was killed for another path's file. */
const MAX_RESENDS = 3;

interface Pending {
  storePath: string;
  narInfo?: NarInfo;
  skip: string[];
  resends: number;
  resolve(result: PathResult): void;
  /** The file being matched and since when (isolated mode). */
  matching?: { file: string; since: number };
}

/** A thread or a child process, behind one interface. */
interface Endpoint {
  send(msg: ToThread): void;
  kill(): void;
  exited: Promise<void>;
}

class ScanThread {
  readonly pending = new Map<number, Pending>();
  private readonly endpoint: Endpoint;
  readonly ready: Promise<void>;
  /** Set when the pool killed it for a file past the time limit. */
  killedFor: { id: number; file: string } | null = null;
  /** Exited or failed: sends go nowhere. */
  dead = false;

  constructor(config: ScanThreadConfig, onBytes: (downloaded: number, nar: number) => void, onExit: (t: ScanThread, why: string) => void) {
    let onMessage: (msg: FromThread) => void = () => {};
    let onFailure: (why: string, beforeReady: Error) => void = () => {};
    this.endpoint = config.fileTimeoutMs !== undefined ? processEndpoint(config, (m) => onMessage(m), (w, e) => onFailure(w, e)) : threadEndpoint(config, (m) => onMessage(m), (w, e) => onFailure(w, e));
    this.ready = new Promise((resolve, reject) => {
      onMessage = (msg) => {
        switch (msg.type) {
          case 'ready':
            return resolve();
          case 'fatal':
            return reject(new Error(msg.message));
          case 'bytes':
            return onBytes(msg.downloaded, msg.nar);
          case 'matching': {
            const p = this.pending.get(msg.id);
            if (p) p.matching = msg.file === null ? undefined : { file: msg.file, since: Date.now() };
            return;
          }
          case 'result': {
            const p = this.pending.get(msg.id);
            this.pending.delete(msg.id);
            p?.resolve(msg.result);
            return;
          }
        }
      };
      onFailure = (why, err) => {
        this.dead = true;
        reject(err);
        onExit(this, why);
      };
    });
  }

  scan(id: number, p: Pending): void {
    this.pending.set(id, p);
    this.send({ type: 'scan', id, storePath: p.storePath, ...(p.narInfo ? { narInfo: p.narInfo } : {}), ...(p.skip.length > 0 ? { skipFiles: p.skip } : {}) });
  }

  send(msg: ToThread): void {
    this.endpoint.send(msg);
  }

  kill(): void {
    this.endpoint.kill();
  }

  async close(): Promise<void> {
    this.send({ type: 'close' });
    await this.endpoint.exited;
  }
}

function threadEndpoint(config: ScanThreadConfig, onMessage: (m: FromThread) => void, onFailure: (why: string, err: Error) => void): Endpoint {
  const thread = new Thread(entry, { workerData: { config } });
  thread.on('message', onMessage);
  thread.on('error', (err) => onFailure(err.message, err));
  thread.on('exit', (code) => onFailure(`scan thread exited with code ${code}`, new Error(`scan thread exited with code ${code} before it was ready`)));
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return { send: (m) => thread.postMessage(m), kill: () => void thread.terminate(), exited };
}

/** A scan process forked ahead of need: Node started and the scan modules loaded, waiting for 'init'. */
interface Spare {
  child: ChildProcess;
  helloSeen: boolean;
}
const spares: Spare[] = [];
let spareTarget = 0;
let refillTimer: NodeJS.Timeout | null = null;

function forkScanProcess(): Spare {
  const child: ChildProcess = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const spare: Spare = { child, helloSeen: false };
  child.on('message', (m: FromThread) => {
    if (m.type === 'hello') spare.helloSeen = true;
  });
  return spare;
}

/**
 * Keeps `n` more scan processes forked and loaded ahead of need (for as long as the returned
 * release is not called), so that an emergency search's isolated pool starts without a Node
 * start-up (a few hundred ms, more on a loaded machine). Spares hold the parent's event loop open
 * only once taken; a spare that dies is replaced; the last release stops them all.
 */
export function retainSpareScanProcesses(n: number): () => void {
  let released = false;
  spareTarget += Math.max(0, n);
  refillSpares(0);
  return () => {
    if (released) return;
    released = true;
    spareTarget = Math.max(0, spareTarget - Math.max(0, n));
    while (spares.length > spareTarget) spares.pop()?.child.kill('SIGKILL');
    if (spareTarget === 0 && refillTimer) {
      clearTimeout(refillTimer);
      refillTimer = null;
    }
  };
}

/** Spares forked, and of them those whose modules are loaded (they said hello). */
export function spareScanProcesses(): { forked: number; ready: number } {
  return { forked: spares.length, ready: spares.filter((s) => s.helloSeen).length };
}

function refillSpares(delayMs: number): void {
  if (refillTimer || spares.length >= spareTarget) return;
  refillTimer = setTimeout(() => {
    refillTimer = null;
    while (spares.length < spareTarget) {
      const spare = forkScanProcess();
      spare.child.once('exit', () => {
        const at = spares.indexOf(spare);
        if (at < 0) return;
        spares.splice(at, 1);
        // One that died loaded is replaced; one that could not even load would die again: searches
        // then fork their own, which reports why.
        if (spare.helloSeen) refillSpares(1000);
        else spareTarget = 0;
      });
      spare.child.unref();
      spare.child.channel?.unref();
      spares.push(spare);
    }
  }, delayMs);
  refillTimer.unref();
}

/** A spare if there is one (then another is forked a moment later, off the search's critical path), else a new fork. */
function takeScanProcess(): Spare {
  let spare = spares.shift();
  while (spare && (spare.child.exitCode !== null || spare.child.signalCode !== null || !spare.child.connected)) spare = spares.shift();
  if (!spare) return forkScanProcess();
  spare.child.ref();
  spare.child.channel?.ref();
  refillSpares(1000);
  return spare;
}

function processEndpoint(config: ScanThreadConfig, onMessage: (m: FromThread) => void, onFailure: (why: string, err: Error) => void): Endpoint {
  const { child, helloSeen } = takeScanProcess();
  child.removeAllListeners('exit');
  // Until the process says hello, what we send is held here (it would be dropped there).
  let held: ToThread[] | null = [];
  const send = (m: ToThread): void => {
    if (held) held.push(m);
    else if (child.connected) child.send(m);
  };
  const greeted = (): void => {
    const queued = held ?? [];
    held = null;
    for (const q of queued) send(q);
  };
  send({ type: 'init', config });
  if (helloSeen) greeted();
  child.on('message', (m: FromThread) => {
    if (m.type === 'hello') return greeted();
    onMessage(m);
  });
  child.on('error', (err) => onFailure(err.message, err));
  child.on('exit', (code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    onFailure(`scan process exited with ${how}`, new Error(`scan process exited with ${how} before it was ready`));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    send,
    kill: () => void child.kill('SIGKILL'),
    exited,
  };
}

export class ScanThreadPool {
  private threads: ScanThread[] = [];
  private nextId = 0;
  private closing = false;
  private watchdog: NodeJS.Timeout | null = null;

  private readonly config: ScanThreadConfig;
  private readonly onBytes: (downloaded: number, nar: number) => void;
  private constructor(config: ScanThreadConfig, onBytes: (downloaded: number, nar: number) => void) {
    this.config = config;
    this.onBytes = onBytes;
  }

  /** Starts `size` threads; rejects (e.g. with the rule compiler's error) if they cannot start. */
  static start(config: ScanThreadConfig, size: number, onBytes: (d: number, n: number) => void = () => {}): Promise<ScanThreadPool> {
    return ScanThreadPool.begin(config, size, onBytes).ready;
  }

  /** Starts `size` threads: the pool at once (kill() stops them mid-start), and when they are ready. */
  static begin(config: ScanThreadConfig, size: number, onBytes: (d: number, n: number) => void = () => {}): { pool: ScanThreadPool; ready: Promise<ScanThreadPool> } {
    const pool = new ScanThreadPool(config, onBytes);
    for (let i = 0; i < Math.max(1, size); i++) pool.threads.push(pool.spawn());
    const ready = (async () => {
      try {
        await Promise.all(pool.threads.map((t) => t.ready));
      } catch (err) {
        await pool.close();
        throw err;
      }
      const limit = config.fileTimeoutMs;
      if (limit !== undefined) {
        pool.watchdog = setInterval(() => pool.killStuck(limit), Math.max(50, Math.min(1000, limit / 4)));
        pool.watchdog.unref();
      }
      return pool;
    })();
    return { pool, ready };
  }

  /** Store paths in flight. */
  get busy(): number {
    return this.threads.reduce((n, t) => n + t.pending.size, 0);
  }

  /** Threads or processes running. */
  get size(): number {
    return this.threads.length;
  }

  /** Scans one store path on the least busy thread. Never rejects: failures are results. */
  scan(storePath: string, narInfo?: NarInfo): Promise<PathResult> {
    return new Promise((resolve) => {
      const skip: string[] = [];
      this.dispatch({
        storePath,
        ...(narInfo ? { narInfo } : {}),
        skip,
        resends: 0,
        resolve: (result) => resolve(skip.length > 0 ? withTimedOut(result, skip, this.config.fileTimeoutMs ?? 0) : result),
      });
    });
  }

  /** Stops every thread or process at once, whatever it is doing (shutdown, cancellation). */
  async kill(): Promise<void> {
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    // Each killed thread's exit settles the paths it held (as failed), then it leaves the list.
    const threads = [...this.threads];
    for (const t of threads) t.kill();
    await Promise.all(threads.map((t) => t.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all(this.threads.map((t) => t.close().catch(() => undefined)));
    this.threads = [];
  }

  private dispatch(p: Pending): void {
    const live = this.threads.filter((t) => !t.dead);
    if (this.closing || live.length === 0) {
      p.resolve(threadDied(p.storePath, 'the scan pool was stopped (shutdown or cancellation)'));
      return;
    }
    const thread = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    thread.scan(this.nextId++, p);
  }

  private killStuck(limitMs: number): void {
    const now = Date.now();
    for (const t of this.threads) {
      if (t.killedFor) continue;
      for (const [id, p] of t.pending) {
        if (p.matching && now - p.matching.since > limitMs) {
          t.killedFor = { id, file: p.matching.file };
          t.kill();
          break;
        }
      }
    }
  }

  private spawn(): ScanThread {
    return new ScanThread(this.config, this.onBytes, (dead, why) => this.replace(dead, why));
  }

  private replace(dead: ScanThread, why: string): void {
    const index = this.threads.indexOf(dead);
    if (index < 0) return;
    const pending = [...dead.pending.entries()];
    dead.pending.clear();
    const killedFor = dead.killedFor;
    if (this.closing) this.threads.splice(index, 1);
    else this.threads[index] = this.spawn();
    for (const [id, p] of pending) {
      if (this.closing || !killedFor) {
        p.resolve(threadDied(p.storePath, why));
        continue;
      }
      p.matching = undefined;
      if (id === killedFor.id) {
        p.skip.push(killedFor.file);
        if (p.skip.length >= MAX_TIMEOUTS_PER_PATH) {
          p.resolve(threadDied(p.storePath, `timed out: ${p.skip.length} files took longer than ${this.config.fileTimeoutMs} ms each to match (${p.skip.join(', ')})`));
          continue;
        }
      } else if (++p.resends > MAX_RESENDS) {
        p.resolve(threadDied(p.storePath, `its scan process was killed ${MAX_RESENDS} times for other paths' files that timed out`));
        continue;
      }
      this.dispatch(p);
    }
  }
}

function withTimedOut(result: PathResult, files: string[], limitMs: number): PathResult {
  const note = `timed out: ${files.join(', ')} took longer than ${limitMs} ms to match and ${files.length === 1 ? 'was' : 'were'} not matched`;
  return { ...result, timedOut: [...files], reason: result.reason ? `${result.reason}; ${note}` : note };
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
