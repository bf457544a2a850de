// file:///dir caches, as `nix copy --to file://…` writes them.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BinaryCache, NarDownload } from './binary-cache.ts';
import { narInfoKey } from './binary-cache.ts';
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
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new CacheError(`NAR ${info.url} is missing from ${this.dir}`, this.url, false, 404);
    }
    return { body: createReadStream(file, { highWaterMark: 1 << 20 }), size };
  }

  async close(): Promise<void> {}

  private async read(file: string): Promise<string | null> {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') return null;
      throw new CacheError(`cannot read ${file}: ${(err as Error).message}`, this.url, false);
    }
  }
}
