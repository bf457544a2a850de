// A scan thread: compiles the rules once, then scans the store paths the pool sends it, several at
// a time (each with its own matcher), reporting bytes as they flow and one result per path.
// The same file runs as a child process for untrusted rules (the pool's isolated mode): there the
// configuration comes in the first message, and every file match is announced so that the pool
// can kill a process stuck in YARA-X (which has no scan timeout of its own).
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { openBinaryCache } from '../cache/open.ts';
import { compileRules } from '../yara/rules.ts';
import { FileMatcher } from '../yara/file-matcher.ts';
import { fileFindings } from '../signatures/file-findings.ts';
import { ruleMetas } from '../signatures/loader.ts';
import { LinkageChecker } from '../signatures/file-linkage.ts';
import { scanStorePath } from './scan-store-path.ts';
import type { FromThread, ScanThreadConfig, ToThread } from './scan-thread-protocol.ts';

const BYTES_REPORT_MS = 100;

/** The parent watcher of a scan process (plain JavaScript, run with eval): polls the parent pid. */
const WATCH_PARENT = `const { workerData } = require('node:worker_threads');
setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(workerData.pid, 'SIGKILL'); }, 500);`;

interface Port {
  post(message: FromThread): void;
  onMessage(handler: (msg: ToThread) => void): void;
  close(): void;
}

function threadPort(): Port | null {
  const port = parentPort;
  if (!port) return null;
  return { post: (m) => port.postMessage(m), onMessage: (h) => port.on('message', h), close: () => port.close() };
}

function processPort(): Port | null {
  const send = process.send?.bind(process);
  if (!send) return null;
  return {
    post: (m) => void send(m),
    onMessage: (h) => process.on('message', (m) => h(m as ToThread)),
    close: () => process.disconnect(),
  };
}

function serve(port: Port, config: ScanThreadConfig): void {
  const rules = compileRules(config.ruleSources);
  const metas = ruleMetas(config.ruleSources);
  const linkage = new LinkageChecker(metas);
  const cache = openBinaryCache(config.cacheUrl, config.cacheOptions);
  const isolated = config.fileTimeoutMs !== undefined;
  let downloaded = 0;
  let nar = 0;
  const flush = (): void => {
    if (downloaded === 0 && nar === 0) return;
    port.post({ type: 'bytes', downloaded, nar });
    downloaded = 0;
    nar = 0;
  };
  const timer = setInterval(flush, BYTES_REPORT_MS);

  port.onMessage((msg) => {
    if (msg.type === 'init') return;
    if (msg.type === 'close') {
      clearInterval(timer);
      flush();
      void cache.close().finally(() => port.close());
      return;
    }
    const id = msg.id;
    // A matcher holds the state of the file being read, so every path in flight needs its own;
    // their buffers come from the thread's pool.
    const onScan = isolated ? (file: string | null) => port.post({ type: 'matching', id, file }) : undefined;
    const matcher = new FileMatcher(rules, { ...config.matchOptions, onScan });
    void scanStorePath(msg.storePath, {
      cache,
      matcher,
      binaryOnly: config.binaryOnly,
      inspect: (hits, whole) => linkage.check(hits, whole),
      decompress: config.decompress,
      skipFiles: new Set(msg.skipFiles ?? []),
      toFindings: (storePath, files) => files.flatMap((f) => fileFindings(storePath, f.file, f.hits, metas, f.linkage)),
      onBytes: (d, n) => {
        downloaded += d;
        nar += n;
      },
    }, msg.narInfo).then((result) => {
      flush();
      port.post({ type: 'result', id, result });
    });
  });
  port.post({ type: 'ready' });
}

const port = threadPort() ?? processPort();
if (!port) throw new Error('scan-thread.ts runs only as a scan thread or a scan process, started by ScanThreadPool');
const start = (config: ScanThreadConfig): void => {
  try {
    serve(port, config);
  } catch (err) {
    port.post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  }
};
if (parentPort) start(workerData.config as ScanThreadConfig);
else {
  process.once('message', (m: ToThread) => m.type === 'init' && start(m.config));
  // Messages that arrive before a listener exists are dropped: the pool waits for this one.
  port.post({ type: 'hello' });
  // The pool's process is gone: nothing will read our results.
  process.once('disconnect', () => process.exit(0));
  // ... but while YARA-X runs an untrusted rule this thread cannot see 'disconnect' (the event loop
  // waits on native code, for hours with a rule such as `{ 41 [0-] 42 }`), and a pool killed with
  // -9 cannot kill us: a watcher thread ends this process once its parent has gone (a CI run left
  // such an orphan spinning one core).
  new Worker(WATCH_PARENT, { eval: true, workerData: { ppid: process.ppid, pid: process.pid } }).unref();
}
