// Store paths: /nix/store/<32-char nix-base32 hash>-<name>, and Nix's parseDrvName split of the
// name into pname and version.

import { NIX_BASE32_ALPHABET } from './base32.ts';
import { VendorscanError } from '../errors/errors.ts';

export interface StorePath {
  path: string;
  hash: string;
  name: string;
  pname: string;
  version: string | null;
}

export class StorePathError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_STORE_PATH_INVALID', 'usage', message, options);
  }
}

const HASH = new RegExp(`^[${NIX_BASE32_ALPHABET}]{32}$`);
const NAME = /^[A-Za-z0-9+\-._?=]+$/;

export function parseStorePath(s: string, storeDir = '/nix/store'): StorePath {
  const input = s.trim();
  const prefix = `${storeDir.replace(/\/+$/, '')}/`;
  if (!input.startsWith(prefix)) throw new StorePathError(`"${s}" is not a store path: it is not under ${storeDir}`);
  const base = input.slice(prefix.length);
  if (base.includes('/')) throw new StorePathError(`"${s}" is not a store path: it names a file inside one`);
  const hash = base.slice(0, 32);
  if (!HASH.test(hash) || base[32] !== '-') throw new StorePathError(`"${s}" is not a store path: "${base.slice(0, 33)}" is not a 32-character Nix base32 hash and '-'`);
  const name = base.slice(33);
  if (name.length === 0 || name.length > 211) throw new StorePathError(`"${s}" is not a store path: the name must be 1 to 211 characters`);
  if (!NAME.test(name)) throw new StorePathError(`"${s}" is not a store path: the name has characters other than A-Z a-z 0-9 + - . _ ? =`);
  if (name.startsWith('.')) throw new StorePathError(`"${s}" is not a store path: the name starts with "."`);
  return { path: prefix + base, hash, name, ...parseDrvName(name) };
}

/** Nix's rule (names.cc): the version starts after the first '-' that is followed by a non-letter. */
export function parseDrvName(name: string): { pname: string; version: string | null } {
  for (let i = 0; i + 1 < name.length; i++) {
    if (name[i] === '-' && !/[A-Za-z]/.test(name[i + 1] ?? '')) {
      return { pname: name.slice(0, i), version: name.slice(i + 1) };
    }
  }
  return { pname: name, version: null };
}

/** The store path hash alone, as a narinfo key uses it. */
export function isStorePathHash(s: string): boolean {
  return HASH.test(s);
}

/** pname and version from a store path's base name, whatever its store dir ('' pname when it has none). */
export function storePathName(storePath: string): { pname: string; version: string | null } {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  const name = HASH.test(base.slice(0, 32)) && base[32] === '-' ? base.slice(33) : base;
  return parseDrvName(name);
}
