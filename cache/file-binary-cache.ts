// file:///dir caches, as `nix copy --to file://…` writes them. Nothing outside the cache's folder
// is read: not through `..` in a narinfo URL, nor through a symlink inside the folder; only
// regular files are read (a FIFO or a device in the folder is refused, never waited on).
//
// Reads are synchronous: a narinfo, and a NAR up to WHOLE_NAR_BYTES, is one open, fstat, read and
// close on the calling thread. Each asynchronous fs call is a round trip through libuv's thread
// pool, and on the development VM (expensive wake-ups) the five of them per narinfo, plus a read
// stream's 1 MiB buffer per small NAR, were a fifth of a small store path's CPU (2001-path bench,
// see docs/performance.md). These are local files of at most a few hundred kB: the event loop
// waits microseconds. Larger NARs are streamed, so memory stays bounded.
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BinaryCache, NarDownload } from './binary-cache.ts';
import { MAX_NARINFO_BYTES, narInfoKey } from './binary-cache.ts';
import { CacheError } from './cache-error.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseNixCacheInfo, type NixCacheInfo } from '../nix/nix-cache-info.ts';

/** NAR files up to this size are read whole, in one call; larger ones are streamed. */
export const WHOLE_NAR_BYTES = 1024 * 1024;

/** O_NONBLOCK: opening a FIFO returns at once (then fstat refuses it) instead of waiting for a writer. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export class FileBinaryCache implements BinaryCache {
  readonly url: string;
  private readonly dir: string;
  private rootPath: string | null = null;

  constructor(url: string) {
    const u = new URL(url);
    this.dir = fileURLToPath(`file://${u.pathname}`);
    this.url = `file://${this.dir}`;
  }

  async cacheInfo(): Promise<NixCacheInfo> {
    const file = path.join(this.dir, 'nix-cache-info');
    const text = this.readText(file);
    if (text === null) throw new CacheError(`${file} not found: is this a Nix binary cache?`, this.url, false, 404);
    return parseNixCacheInfo(text, file);
  }

  async narInfo(storePathHash: string): Promise<NarInfo | null> {
    const file = path.join(this.dir, narInfoKey(storePathHash));
    const text = this.readText(file);
    return text === null ? null : parseNarInfo(text, file);
  }

  async openNar(info: NarInfo): Promise<NarDownload> {
    const file = path.resolve(this.dir, info.url);
    if (!file.startsWith(this.dir + path.sep)) throw new CacheError(`NAR URL ${info.url} points outside ${this.dir}`, this.url, false);
    let fd: number;
    try {
      // Opened once, by its resolved path: what is read is what was checked.
      fd = openSync(this.inside(file), OPEN_FLAGS);
    } catch (err) {
      if (err instanceof CacheError) throw err;
      if ((err as { code?: string }).code === 'ENOENT') throw new CacheError(`NAR ${info.url} is missing from ${this.dir}`, this.url, false, 404);
      throw new CacheError(`cannot open NAR ${info.url} in ${this.dir}: ${(err as Error).message}`, this.url, false);
    }
    let streamed = false;
    try {
      const size = this.regularFileSize(fd, file);
      if (size <= WHOLE_NAR_BYTES) return { body: once(readWhole(fd, size, file, this.url)), size };
      streamed = true;
      // `start: 0`: positional reads, which leave the offset at 0 for whoever else reads `fd`.
      const chunks = (): AsyncIterable<Uint8Array> => reusedChunks(fd, size, file, this.url);
      return { body: createReadStream('', { fd, start: 0, highWaterMark: WHOLE_NAR_BYTES }), size, file: { fd, chunks } };
    } finally {
      if (!streamed) closeSync(fd);
    }
  }

  async close(): Promise<void> {}

  /** The real path of `file`, refused when a symlink leads it out of the cache's folder. */
  private inside(file: string): string {
    const real = realpathSync.native(file);
    this.rootPath ??= realpathSync.native(this.dir);
    if (!real.startsWith(this.rootPath + path.sep)) throw new CacheError(`${path.relative(this.dir, file)} is a symlink leading outside ${this.dir}: refused`, this.url, false);
    return real;
  }

  private regularFileSize(fd: number, file: string): number {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CacheError(`${file} is not a regular file`, this.url, false);
    return st.size;
  }

  /** The file's text, or null when it does not exist (or may not be read). */
  private readText(file: string): string | null {
    let fd: number;
    try {
      fd = openSync(this.inside(file), OPEN_FLAGS);
    } catch (err) {
      if (err instanceof CacheError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') return null;
      throw new CacheError(`cannot read ${file}: ${(err as Error).message}`, this.url, false);
    }
    try {
      const size = this.regularFileSize(fd, file);
      if (size > MAX_NARINFO_BYTES) throw new CacheError(`${file} is larger than ${MAX_NARINFO_BYTES} bytes: not a narinfo`, this.url, false);
      return readWhole(fd, size, file, this.url).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }
}

/** Reads `size` bytes from the start of `fd`; a file that shrank meanwhile is an error, one that grew is read to `size`. */
function readWhole(fd: number, size: number, file: string, url: string): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; ) at += readSome(fd, buf, at, size - at, at, size, file, url);
  return buf;
}

/** One positional read of up to `length` bytes at `position` into `buf` at `into`: more than none, or a CacheError (read error, or the file shrank below `size`). */
function readSome(fd: number, buf: Buffer, into: number, length: number, position: number, size: number, file: string, url: string): number {
  let n: number;
  try {
    n = readSync(fd, buf, into, length, position);
  } catch (err) {
    throw new CacheError(`cannot read ${file}: ${(err as Error).message}`, url, false);
  }
  if (n === 0) throw new CacheError(`${file} shrank while being read (${position} of ${size} bytes)`, url, false);
  return n;
}

/**
 * `size` bytes of `fd` from its start, read positionally into one reused buffer: each chunk is a
 * view that is valid only until the next one is asked for. For a reader that hashes and lets go,
 * when a decompressor process reads the file itself: reading ahead of it into a new 1 MiB buffer
 * per chunk left garbage faster than the collector freed it (+85 MB of peak RSS on the big-NAR
 * bench). Each read is followed by a turn of the event loop, so the decompressor's output is
 * taken in between.
 */
async function* reusedChunks(fd: number, size: number, file: string, url: string): AsyncGenerator<Uint8Array, void, undefined> {
  const buf = Buffer.allocUnsafe(Math.min(size, WHOLE_NAR_BYTES));
  for (let at = 0; at < size; ) {
    const n = readSome(fd, buf, 0, Math.min(buf.length, size - at), at, size, file, url);
    at += n;
    yield buf.subarray(0, n);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function* once(chunk: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
  yield chunk;
}
