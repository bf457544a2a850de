// NarHash/NarSize: the narinfo's promise about the uncompressed NAR, checked against every byte read.
import { createHash, type Hash } from 'node:crypto';
import { decodeNixBase32, encodeNixBase32, encodedLength } from './base32.ts';
import { VendorscanError } from '../errors/errors.ts';

export type HashAlgorithm = 'sha256' | 'sha512' | 'sha1' | 'md5';
const DIGEST_BYTES: Record<HashAlgorithm, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

export interface NixHash {
  algorithm: HashAlgorithm;
  digest: Uint8Array;
}

/** Accepts `sha256:<nix-base32|hex|base64>` and SRI `sha256-<base64>`. */
export function parseNixHash(s: string): NixHash {
  const m = /^(sha256|sha512|sha1|md5)([:-])(.+)$/.exec(s.trim());
  if (!m) throw new Error(`hash "${s}" is not of the form <algorithm>:<digest> or SRI <algorithm>-<base64>`);
  const algorithm = m[1] as HashAlgorithm;
  const body = m[3] ?? '';
  const size = DIGEST_BYTES[algorithm];
  let digest: Uint8Array;
  if (m[2] === '-') digest = Buffer.from(body, 'base64');
  else if (body.length === size * 2 && /^[0-9a-f]+$/i.test(body)) digest = Buffer.from(body, 'hex');
  else if (body.length === encodedLength(size)) digest = decodeNixBase32(body);
  else digest = Buffer.from(body, 'base64');
  if (digest.length !== size) throw new Error(`hash "${s}" has ${digest.length} digest bytes, ${algorithm} needs ${size}`);
  return { algorithm, digest };
}

export function formatNixHash(h: NixHash): string {
  return `${h.algorithm}:${encodeNixBase32(h.digest)}`;
}

export class NarIntegrityError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_NAR_INTEGRITY', 'input', message, options);
  }
}

/** Fed every uncompressed NAR byte; verify() compares against the narinfo. */
export class NarIntegrity {
  private readonly hashes = new Map<HashAlgorithm, Hash>();
  size = 0;

  constructor(algorithms: HashAlgorithm[] = ['sha256']) {
    for (const a of algorithms) this.hashes.set(a, createHash(a));
  }

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    for (const h of this.hashes.values()) h.update(chunk);
  }

  verify(expected: { narHash?: string; narSize?: number }): void {
    if (expected.narSize !== undefined && expected.narSize !== this.size) {
      throw new NarIntegrityError(`NarSize mismatch: narinfo says ${expected.narSize} bytes, NAR has ${this.size}`);
    }
    if (expected.narHash !== undefined) {
      const want = parseNixHash(expected.narHash);
      const hash = this.hashes.get(want.algorithm);
      if (!hash) throw new NarIntegrityError(`NarHash uses ${want.algorithm}, which was not computed`);
      const got = new Uint8Array(hash.digest());
      if (!Buffer.from(got).equals(Buffer.from(want.digest))) {
        throw new NarIntegrityError(
          `NarHash mismatch: narinfo says ${formatNixHash(want)}, NAR hashes to ${formatNixHash({ algorithm: want.algorithm, digest: got })}`,
        );
      }
    }
  }
}
