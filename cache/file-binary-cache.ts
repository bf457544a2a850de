// file:///dir caches, as `nix copy --to file://…` writes them. Nothing outside the cache's folder
// is read: not through `..` in a narinfo URL, nor through a symlink inside the folder.
import { createReadStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BinaryCache, NarDownload } from './binary-cache.ts';
import { MAX_NARINFO_BYTES, narInfoKey } from './binary-cache.ts';
import { CacheError } from './cache-error.ts';
import { parseNarInfo, type NarInfo } from '../nix/narinfo.ts';
import { parseNixCacheInfo, type NixCacheInfo } from '../nix/nix-cache-info.ts';

export class FileBinaryCache implements BinaryCache {
  readonly url: string;
  private readonly dir: string;

  constructor(url: string) {
    const u = new URL(url);
    this.dir = fileURLToPath(`file://${u.pathname}`);
    this.url = `file://${this.dir}`;
  }

  async cacheInfo(): Promise<NixCacheInfo> {
    const file = path.join(this.dir, 'nix-cache-info');
    const text = await this.read(file);
    if (text === null) throw new CacheError(`${file} not found: is this a Nix binary cache?`, this.url, false, 404);
    return parseNixCacheInfo(text, file);
  }

  async narInfo(storePathHash: string): Promise<NarInfo | null> {
    const file = path.join(this.dir, narInfoKey(storePathHash));
    const text = await this.read(file);
    return text === null ? null : parseNarInfo(text, file);
  }

  async openNar(info: NarInfo): Promise<NarDownload> {
    const file = path.resolve(this.dir, info.url);
    if (!file.startsWith(this.dir + path.sep)) throw new CacheError(`NAR URL ${info.url} points outside ${this.dir}`, this.url, false);
    let real: string;
    try {
      real = await this.inside(file);
    } catch (err) {
      if (err instanceof CacheError) throw err;
      throw new CacheError(`NAR ${info.url} is missing from ${this.dir}`, this.url, false, 404);
    }
    // Opened once, by its resolved path: what is read is what was checked.
    const handle = await open(real, 'r');
    const size = (await handle.stat()).size;
    return { body: createReadStream('', { fd: handle, highWaterMark: 1 << 20 }), size };
  }

  /** The real path of `file`, refused when a symlink leads it out of the cache's folder. */
  private async inside(file: string): Promise<string> {
    const [real, root] = await Promise.all([realpath(file), this.root()]);
    if (!real.startsWith(root + path.sep)) throw new CacheError(`${path.relative(this.dir, file)} is a symlink leading outside ${this.dir}: refused`, this.url, false);
    return real;
  }

  private rootPath: Promise<string> | null = null;
  private root(): Promise<string> {
    this.rootPath ??= realpath(this.dir);
    return this.rootPath;
  }

  async close(): Promise<void> {}

  private async read(file: string): Promise<string | null> {
    try {
      const handle = await open(await this.inside(file), 'r');
      try {
        const st = await handle.stat();
        if (!st.isFile()) throw new CacheError(`${file} is not a regular file`, this.url, false);
        const size = st.size;
        if (size > MAX_NARINFO_BYTES) throw new CacheError(`${file} is larger than ${MAX_NARINFO_BYTES} bytes: not a narinfo`, this.url, false);
        return await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof CacheError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') return null;
      throw new CacheError(`cannot read ${file}: ${(err as Error).message}`, this.url, false);
    }
  }
}
