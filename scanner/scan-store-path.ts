// One store path through the whole data path: narinfo → compressed NAR → decompress → NAR parser
// → matcher → findings. Streams end to end; nothing holds a whole NAR. Any failure becomes a
// 'failed' result naming the store path and what was wrong, so one bad path never stops a scan.
import { createHash } from 'node:crypto';
import { CacheError, type BinaryCache } from '../cache/binary-cache.ts';
import { backoffDelay, countingRetries, countRetry } from '../cache/retry.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import { parseStorePath } from '../nix/store-path.ts';
import { decompress, parseCompression, readOffset, readsInputFd, xzSecondTry, type DecompressOptions } from '../decompress/decompress.ts';
import { archiveLayerDecoders } from '../decompress/archive-layers.ts';
import { NarParser } from '../nix/nar.ts';
import { NarIntegrity, NarIntegrityError, parseNixHash } from '../nix/hash.ts';
import type { FileMatcher } from '../yara/file-matcher.ts';
import { NarMatchVisitor, type FileHits, type FileInspector } from './nar-match-visitor.ts';
import type { FileFinding, PathResult } from './path-result.ts';

export interface ScanDeps {
  cache: BinaryCache;
  matcher: FileMatcher;
  /** Skip files that are not binary objects (true when only library signatures are loaded). */
  binaryOnly: boolean;
  /** Reads a hit file's linkage while its bytes are held (scan-thread.ts passes LinkageChecker). */
  inspect?: FileInspector;
  decompress?: DecompressOptions;
  toFindings(storePath: string, files: FileHits[]): FileFinding[];
  /** Files of the NAR not to match (they timed out in an earlier try). */
  skipFiles?: ReadonlySet<string>;
  /** Called as bytes flow, with increments since the last call. */
  onBytes?(downloaded: number, nar: number): void;
}

/**
 * `knownNarInfo`: the narinfo when the caller already fetched it (to check for an unchanged NAR).
 * Every retry on the way (a request the cache retried, a NAR body begun again) is counted in
 * `retries`: the faults the path met and survived.
 */
export async function scanStorePath(input: string, deps: ScanDeps, knownNarInfo?: NarInfo): Promise<PathResult> {
  const { value: result, retries } = await countingRetries(() => scanCounted(input, deps, knownNarInfo));
  if (retries > 0) result.retries = retries;
  return result;
}

async function scanCounted(input: string, deps: ScanDeps, knownNarInfo?: NarInfo): Promise<PathResult> {
  const started = Date.now();
  const result: PathResult = {
    storePath: input,
    status: 'failed',
    downloadedBytes: 0,
    narBytes: 0,
    files: 0,
    findings: [],
    durationMs: 0,
  };
  try {
    const storePath = parseStorePath(input);
    result.storePath = storePath.path;
    const info = knownNarInfo ?? (await deps.cache.narInfo(storePath.hash));
    if (info === null) {
      result.status = 'not-in-cache';
      return result;
    }
    if (info.storePath !== storePath.path) {
      throw new Error(`narinfo for ${storePath.hash} describes ${info.storePath}, not ${storePath.path}`);
    }
    result.narHash = info.narHash;
    result.narSize = info.narSize;
    const files = await streamNarWithRetries(info, deps, result);
    result.findings = deps.toFindings(storePath.path, files);
    result.status = 'scanned';
  } catch (err) {
    result.status = 'failed';
    result.reason = `${input}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    result.durationMs = Date.now() - started;
  }
  return result;
}

/** A download that broke mid-body (a stall, a reset) is begun again this often: requests are retried by the cache, bodies here. */
const BODY_RETRIES = 3;

async function streamNarWithRetries(info: NarInfo, deps: ScanDeps, result: PathResult): Promise<FileHits[]> {
  let options = deps.decompress;
  for (let attempt = 0; ; ) {
    try {
      return await streamNar(info, deps, result, options);
    } catch (err) {
      // A stream zstd refused is decoded again by xz itself, which has the last word (decompress.ts):
      // counted as a retry (the NAR is read twice), not taken from the body's retries.
      const second = xzSecondTry(err, options);
      if (second === null && (!(err instanceof CacheError && err.retryable) || attempt >= BODY_RETRIES)) throw err;
      countRetry();
      result.downloadedBytes = 0;
      result.narBytes = 0;
      if (second !== null) options = second;
      else await new Promise((r) => setTimeout(r, backoffDelay(attempt++, 250, 4000)));
    }
  }
}

/**
 * Below this compressed size a NAR is decompressed in this thread by the JS/WASM decoder: starting
 * a decompressor process costs more than decoding a small file (first run over 2000 small store
 * paths: see README).
 */
const SMALL_NAR_BYTES = 256 * 1024;

async function streamNar(info: NarInfo, deps: ScanDeps, result: PathResult, decompressOptions: DecompressOptions | undefined): Promise<FileHits[]> {
  const where = `narinfo of ${info.storePath}`;
  const compression = parseCompression(info.compression, where);
  const fileCheck = info.fileHash ? new FileHashCheck(info.fileHash, info.fileSize) : null;
  const maxCompressed = maxCompressedBytes(info.narSize);
  if (info.fileSize !== undefined && info.fileSize > maxCompressed) throw new Error(overweight(info, info.fileSize, maxCompressed));
  const visitor = new NarMatchVisitor(deps.matcher, deps.binaryOnly, deps.inspect, undefined, deps.skipFiles, {
    layers: archiveLayerDecoders(deps.decompress?.maxWindowBytes),
  });
  const parser = new NarParser(visitor);
  const integrity = new NarIntegrity();
  // Opened last: from here on the body is released in the finally below, whatever throws (a
  // malformed FileHash threw in between and left a file cache's descriptor open for good).
  const download = await deps.cache.openNar(info);

  async function* counted(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      result.downloadedBytes += chunk.length;
      if (result.downloadedBytes > maxCompressed) throw new Error(overweight(info, result.downloadedBytes, maxCompressed, 'at least '));
      fileCheck?.update(chunk);
      deps.onBytes?.(chunk.length, 0);
      yield chunk;
    }
  }

  try {
    if (download.size !== null && download.size > maxCompressed) throw new Error(overweight(info, download.size, maxCompressed));
    const small = info.fileSize !== undefined && info.fileSize < SMALL_NAR_BYTES && decompressOptions?.prefer !== 'native';
    const options = small ? { ...decompressOptions, prefer: 'js' as const } : decompressOptions;
    // A file cache's NAR goes to a decompressor process as its stdin; counted() hashes the same
    // bytes meanwhile, from a second read. The decompressor must read exactly what was hashed
    // (checked below: a file that grew fails); a rewrite of the same length in between is caught
    // by NarHash, which covers what was decoded (and is what a narinfo's signature covers).
    const direct = download.file !== undefined && readsInputFd(compression, options) ? download.file : undefined;
    if (direct && info.fileSize !== undefined && download.size !== info.fileSize) {
      throw new Error(`FileSize mismatch: narinfo says ${info.fileSize} bytes, the file has ${download.size}`);
    }
    const compressed = direct ? direct.chunks() : download.body;
    for await (const chunk of decompress(counted(compressed), compression, options, direct?.fd)) {
      result.narBytes += chunk.length;
      // Past NarSize the NAR is wrong whatever follows: stop before hashing, parsing or scanning more.
      if (result.narBytes > info.narSize) throw new NarIntegrityError(`NarSize mismatch: narinfo says ${info.narSize} bytes, the NAR is longer (stopped after ${result.narBytes})`);
      integrity.update(chunk);
      parser.write(chunk);
      deps.onBytes?.(0, chunk.length);
      // A failed synchronous zlib call in an archive walk holds its engine until the loop turns.
      if (visitor.takeWalked()) await new Promise((resolve) => setImmediate(resolve));
    }
    // Less is no change: a tool may stop at the end of its stream (bzip2 leaves trailing bytes unread).
    const read = direct ? readOffset(direct.fd) : null;
    if (read !== null && download.size !== null && read > download.size) {
      throw new Error(`NAR ${info.url} changed while being read: the decompressor read ${read} bytes, ${download.size} were hashed`);
    }
  } finally {
    // On an early exit the connection (and its concurrency slot) must be released at once.
    destroyQuietly(download.body);
  }
  parser.end();
  fileCheck?.verify();
  integrity.verify({ narHash: info.narHash, narSize: info.narSize });
  result.files = visitor.files;
  const warnings = visitor.fileWarnings();
  if (warnings.length > 0) result.warnings = warnings;
  return visitor.results();
}

/**
 * The most a compressed NAR may weigh: its NarSize, plus what a codec adds to data it cannot
 * compress (under 1 % for bzip2, a few bytes per block for xz and zstd), with room to spare.
 * More is not a NAR of that size: stream padding or trailing bytes that a decoder would read to
 * the end (xz takes gigabytes of zeros after a stream as padding), so the work a path costs stays
 * bounded by the NarSize it claims.
 */
function maxCompressedBytes(narSize: number): number {
  return narSize + Math.ceil(narSize / 32) + 1024 * 1024;
}

function overweight(info: NarInfo, bytes: number, max: number, prefix = ''): string {
  return `the compressed NAR ${info.url} has ${prefix}${bytes} bytes, more than a NAR of ${info.narSize} bytes (NarSize) can take in any compression (${max})`;
}

/** FileHash/FileSize cover the compressed bytes: a mismatch means a corrupt or substituted download. */
class FileHashCheck {
  private readonly hash;
  private readonly expected;
  private size = 0;

  private readonly fileHash: string;
  private readonly fileSize: number | undefined;
  constructor(
    fileHash: string,
    fileSize: number | undefined,
  ) {
    this.fileHash = fileHash;
    this.fileSize = fileSize;
    this.expected = parseNixHash(fileHash);
    this.hash = createHash(this.expected.algorithm);
  }

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.hash.update(chunk);
  }

  verify(): void {
    if (this.fileSize !== undefined && this.fileSize !== this.size) {
      throw new Error(`FileSize mismatch: narinfo says ${this.fileSize} bytes, download has ${this.size}`);
    }
    const digest = this.hash.digest();
    if (!digest.equals(Buffer.from(this.expected.digest))) {
      throw new Error(`FileHash mismatch: narinfo says ${this.fileHash}, download hashes to ${this.expected.algorithm}:${digest.toString('hex')}`);
    }
  }
}

function destroyQuietly(body: AsyncIterable<Uint8Array>): void {
  const stream = body as { destroy?: () => void; destroyed?: boolean };
  if (typeof stream.destroy === 'function' && !stream.destroyed) stream.destroy();
}
