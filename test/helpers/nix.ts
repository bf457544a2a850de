// Real Nix, not imitations: fixtures are store paths added with `nix-store --add` and
// binary caches written by `nix copy --to file://…` (Debian's nix-bin, NIX_REMOTE=local).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync, symlinkSync, readFileSync, } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const nixEnv = { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' };

/** A file tree to turn into a store path: string/Buffer = regular file, {exec} = executable, {link} = symlink, object = directory. */
export type Tree = string | Buffer | { exec: string | Buffer } | { link: string } | { [name: string]: Tree };

function writeTree(dir: string, tree: Tree): void {
  if (typeof tree === 'string' || Buffer.isBuffer(tree)) {
    writeFileSync(dir, tree);
    chmodSync(dir, 0o644);
  } else if ('exec' in tree && (typeof tree.exec === 'string' || Buffer.isBuffer(tree.exec))) {
    writeFileSync(dir, tree.exec);
    chmodSync(dir, 0o755);
  } else if ('link' in tree && typeof tree.link === 'string') {
    symlinkSync(tree.link, dir);
  } else {
    mkdirSync(dir, { recursive: true });
    for (const [name, child] of Object.entries(tree as Record<string, Tree>)) writeTree(path.join(dir, name), child);
  }
}

/** Adds `tree` to the local Nix store under `name`; returns the store path (/nix/store/<hash>-<name>). */
export function addToStore(name: string, tree: Tree): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-tree-'));
  const root = path.join(dir, name);
  writeTree(root, tree);
  return execFileSync('nix-store', ['--add', root], { env: nixEnv, encoding: 'utf8' }).trim();
}

/** The NAR serialisation of a store path, as Nix writes it. */
export function dumpNar(storePath: string): Buffer {
  return execFileSync('nix-store', ['--dump', storePath], { env: nixEnv, maxBuffer: 1 << 30 });
}

export type Compression = 'xz' | 'zstd' | 'bzip2' | 'none';

/** Writes a file:// binary cache with `nix copy`; returns its directory. */
export function makeBinaryCache(storePaths: string[], compression: Compression = 'xz', dir?: string): string {
  const out = dir ?? mkdtempSync(path.join(tmpdir(), `vendorscan-cache-${compression}-`));
  execFileSync(
    'nix',
    ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${out}?compression=${compression}`, ...storePaths],
    { env: nixEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return out;
}

/** The narinfo file of `storePath` inside a file:// cache directory. */
export function narInfoFile(cacheDir: string, storePath: string): string {
  const hash = path.basename(storePath).slice(0, 32);
  return path.join(cacheDir, `${hash}.narinfo`);
}

export function readNarInfoText(cacheDir: string, storePath: string): string {
  return readFileSync(narInfoFile(cacheDir, storePath), 'utf8');
}
