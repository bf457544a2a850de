// A cache for service tests: store paths of real shared libraries from this machine, some
// carrying copies of libpng and expat, one being libpng's own package. Made by real Nix.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { addToStore, makeBinaryCache, type Tree } from './nix.ts';

const LIB = '/usr/lib/x86_64-linux-gnu';

export interface ServiceCache {
  dir: string;
  storePaths: string[];
  libpngOwn: string;
  /** Store paths carrying a vendored libpng. */
  libpngCopies: string[];
}

function fillers(count: number): string[] {
  return readdirSync(LIB)
    .map((f) => path.join(LIB, f))
    .filter((f) => /\.so[.\d]*$/.test(f) && !f.includes('png') && statSync(f).isFile() && statSync(f).size > 500_000 && statSync(f).size < 4_000_000)
    .sort()
    .slice(0, count);
}

export function buildServiceCache(paths = 12): ServiceCache {
  const libpng = readFileSync(path.join(LIB, 'libpng16.so.16'));
  const expat = existsSync(path.join(LIB, 'libexpat.so.1')) ? readFileSync(path.join(LIB, 'libexpat.so.1')) : null;
  const filler = fillers(paths * 2);
  const storePaths: string[] = [];
  const libpngCopies: string[] = [];
  for (let i = 0; i < paths; i++) {
    const lib: Record<string, Tree> = {};
    for (const f of filler.slice(i * 2, i * 2 + 2)) lib[path.basename(f)] = readFileSync(f);
    const vendorsPng = i % 3 === 0;
    if (vendorsPng) lib['libpng16.so.16'] = libpng;
    if (expat && i % 4 === 1) lib['libexpat.so.1'] = expat;
    const p = addToStore(`app${i}-1.${i}`, { lib, share: { doc: { README: `app ${i} bundles libpng version 1.6.39\n` } } });
    storePaths.push(p);
    if (vendorsPng) libpngCopies.push(p);
  }
  const libpngOwn = addToStore('libpng-1.6.39', { lib: { 'libpng16.so.16': libpng } });
  storePaths.push(libpngOwn);
  return { dir: makeBinaryCache(storePaths, 'xz'), storePaths, libpngOwn, libpngCopies };
}
