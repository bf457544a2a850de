// A scan thread: compiles the rules once, then scans the store paths the pool sends it, several at
// a time (each with its own matcher), reporting bytes as they flow and one result per path.
import { parentPort, workerData } from 'node:worker_threads';
import { openBinaryCache } from '../cache/open.ts';
import { compileRules } from '../yara/rules.ts';
import { FileMatcher } from '../yara/file-matcher.ts';
import { fileFindings } from '../signatures/file-findings.ts';
import { ruleMetas } from '../signatures/loader.ts';
import { LinkageChecker } from '../signatures/file-linkage.ts';
import { scanStorePath } from './scan-store-path.ts';
import type { FromThread, ScanThreadConfig, ToThread } from './scan-thread-protocol.ts';

const BYTES_REPORT_MS = 100;

function post(message: FromThread): void {
  parentPort?.postMessage(message);
}

async function main(config: ScanThreadConfig): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('scan-thread.ts runs only as a scan thread (node:worker_threads), started by ScanThreadPool');
  const rules = compileRules(config.ruleSources);
  const metas = ruleMetas(config.ruleSources);
  const linkage = new LinkageChecker(metas);
  const cache = openBinaryCache(config.cacheUrl, config.cacheOptions);
  let downloaded = 0;
  let nar = 0;
  const flush = (): void => {
    if (downloaded === 0 && nar === 0) return;
    post({ type: 'bytes', downloaded, nar });
    downloaded = 0;
    nar = 0;
  };
  const timer = setInterval(flush, BYTES_REPORT_MS);

  port.on('message', (msg: ToThread) => {
    if (msg.type === 'close') {
      clearInterval(timer);
      flush();
      void cache.close().finally(() => port.close());
      return;
    }
    // A matcher holds the state of the file being read, so every path in flight needs its own;
    // their buffers come from the thread's pool.
    const matcher = new FileMatcher(rules, config.matchOptions);
    void scanStorePath(msg.storePath, {
      cache,
      matcher,
      binaryOnly: config.binaryOnly,
      inspect: (hits, whole) => linkage.check(hits, whole),
      decompress: config.decompress,
      toFindings: (storePath, files) => files.flatMap((f) => fileFindings(storePath, f.file, f.hits, metas, f.linkage)),
      onBytes: (d, n) => {
        downloaded += d;
        nar += n;
      },
    }, msg.narInfo).then((result) => {
      flush();
      post({ type: 'result', id: msg.id, result });
    });
  });
  post({ type: 'ready' });
}

main(workerData.config as ScanThreadConfig).catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
