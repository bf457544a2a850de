// The NAR parser against NARs written by real Nix (test/fixtures/nar, made by make-fixtures.sh),
// in every chunking, and against each rule Nix enforces, broken one at a time.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { NarParser, NarFormatError, type NarVisitor } from '../../nix/nar.ts';
import { NarIntegrity, parseNixHash } from '../../nix/hash.ts';
import { decodeNixBase32, encodeNixBase32 } from '../../nix/base32.ts';
import { addToStore, dumpNar } from '../helpers/nix.ts';

const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'nar');
type Entry = { path: string; type: string; size?: number; executable?: boolean; sha256?: string; target?: string };
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, { narHash: string; narSize: number; entries: Entry[] }>;

function collect(nar: Uint8Array, chunking: (i: number) => number): Entry[] {
  const entries: Entry[] = [];
  let hash = createHash('sha256');
  let current: Entry | null = null;
  const visitor: NarVisitor = {
    directory: (p) => entries.push({ path: p, type: 'directory' }),
    symlink: (p, target) => entries.push({ path: p, type: 'symlink', target }),
    fileStart: (p, size, executable) => {
      current = { path: p, type: 'regular', size, executable };
      hash = createHash('sha256');
    },
    fileData: (c) => hash.update(c),
    fileEnd: () => {
      entries.push({ ...current!, sha256: hash.digest('hex') });
    },
  };
  const parser = new NarParser(visitor);
  for (let i = 0, n = 0; i < nar.length; n++) {
    const step = Math.max(1, chunking(n));
    parser.write(nar.subarray(i, i + step));
    i += step;
  }
  parser.end();
  expect(parser.bytesRead).toBe(nar.length);
  return entries;
}

const byPath = (a: Entry, b: Entry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

describe('NARs written by Nix', () => {
  for (const [name, want] of Object.entries(expected)) {
    const nar = readFileSync(path.join(dir, `${name}.nar`));
    for (const [label, chunking] of [
      ['whole', () => nar.length],
      ['1 byte', () => 1],
      ['7 bytes', () => 7],
      ['random', (n: number) => 1 + ((n * 7919) % 613)],
    ] as const) {
      it(`${name}: every entry, in ${label} chunks`, () => {
        expect(collect(nar, chunking).sort(byPath)).toEqual([...want.entries].sort(byPath));
      });
    }
    it(`${name}: NarHash and NarSize as nix-store reports them`, () => {
      const integrity = new NarIntegrity();
      integrity.update(nar);
      expect(() => integrity.verify({ narHash: want.narHash, narSize: want.narSize })).not.toThrow();
      expect(() => integrity.verify({ narSize: want.narSize + 1 })).toThrow(`NarSize mismatch: narinfo says ${want.narSize + 1} bytes, NAR has ${want.narSize}`);
    });
  }
});

describe('nix base32 and hashes', () => {
  it('agrees with nix-hash', () => {
    const hex = createHash('sha256').update('vendorscan').digest('hex');
    const nix = execFileSync('nix-hash', ['--type', 'sha256', '--to-base32', hex], { encoding: 'utf8' }).trim();
    expect(encodeNixBase32(Buffer.from(hex, 'hex'))).toBe(nix);
    expect(Buffer.from(decodeNixBase32(nix)).toString('hex')).toBe(hex);
  });
  it('parses every spelling of a sha256', () => {
    const digest = createHash('sha256').update('x').digest();
    for (const s of [`sha256:${digest.toString('hex')}`, `sha256:${encodeNixBase32(digest)}`, `sha256-${digest.toString('base64')}`]) {
      expect(Buffer.from(parseNixHash(s).digest).equals(digest)).toBe(true);
    }
    expect(() => decodeNixBase32('e'.repeat(52))).toThrow(/invalid character "e"/);
    expect(() => parseNixHash('sha256:abc')).toThrow(/digest bytes/);
  });
});

// --- one broken rule at a time, made by editing a real Nix NAR ---

function str(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
}
function parse(nar: Buffer): void {
  const p = new NarParser({ fileStart() {}, fileData() {}, fileEnd() {} });
  p.write(nar);
  p.end();
}
function expectError(nar: Buffer, message: RegExp, offset?: number): void {
  let error: unknown;
  try {
    parse(nar);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NarFormatError);
  expect((error as Error).message).toMatch(message);
  if (offset !== undefined) expect((error as NarFormatError).offset).toBe(offset);
}
/** Replaces the first occurrence of the encoded string `from` with `to`. */
function swap(nar: Buffer, from: string, to: string | Buffer): Buffer {
  const at = nar.indexOf(str(from));
  expect(at).toBeGreaterThanOrEqual(0);
  return Buffer.concat([nar.subarray(0, at), str(to), nar.subarray(at + str(from).length)]);
}

describe('rules Nix enforces', () => {
  const real = dumpNar(addToStore('rules-1.0', { b: 'bee', c: 'sea', d: { exec: 'dee' } }));

  it('a real NAR parses', () => expect(() => parse(real)).not.toThrow());
  it('bad magic', () => expectError(swap(real, 'nix-archive-1', 'nix-archive-2'), /bad magic "nix-archive-2"/, 0));
  it('non-zero padding', () => {
    const bad = Buffer.from(real);
    bad[8 + 13] = 1; // padding after "nix-archive-1" (13 bytes)
    expectError(bad, /non-zero padding after magic/);
  });
  it('unsorted names', () => expectError(swap(real, 'b', 'z'), /entry "c" .* is out of order \(after "z"\)/));
  it('duplicate names', () => expectError(swap(real, 'c', 'b'), /duplicate entry name "b"/));
  it('empty name', () => expectError(swap(real, 'b', ''), /empty entry name/));
  it('"." and ".."', () => {
    expectError(swap(real, 'b', '.'), /entry name "\."/);
    expectError(swap(real, 'b', '..'), /entry name "\.\."/);
  });
  it('"/" and NUL in names', () => {
    expectError(swap(real, 'b', 'a/b'), /contains "\/"/);
    expectError(swap(real, 'b', 'a\0'), /contains NUL/);
  });
  it('truncated inside a file and inside padding', () => {
    const at = real.indexOf(Buffer.from('bee'));
    expectError(real.subarray(0, at + 2), /truncated: expected 1 more bytes of file contents/);
    expectError(real.subarray(0, at + 5), /truncated/);
  });
  it('trailing data', () => expectError(Buffer.concat([real, str(')')]), /trailing data/, real.length));
  it('wrong token', () => expectError(swap(real, 'contents', 'content'), /expected "contents"/));
  it('absurd lengths are refused before allocating', () => {
    const bad = Buffer.from(real);
    bad.writeBigUInt64LE(1n << 40n, 0);
    expectError(bad, /magic is 1099511627776 bytes long/, 0);
  });
  it('a file size larger than the data left', () => {
    const at = real.indexOf(str('bee'));
    const bad = Buffer.from(real);
    bad.writeBigUInt64LE(1000n, at);
    expectError(bad, /truncated/);
  });
  it('unknown node type and bad executable marker', () => {
    expectError(swap(real, 'regular', 'fifo'), /unknown node type "fifo"/);
    expectError(swap(real, 'executable', 'executable2'), /expected "contents"/);
  });
});

describe('memory', () => {
  it('does not grow with the size of a file inside the NAR', () => {
    const size = 512 * 1024 * 1024;
    const header = Buffer.concat([str('nix-archive-1'), str('('), str('type'), str('regular'), str('contents')]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(size));
    let seen = 0;
    const parser = new NarParser({ fileStart() {}, fileData: (c) => (seen += c.length), fileEnd() {} });
    const before = process.memoryUsage().rss;
    parser.write(header);
    parser.write(len);
    const chunk = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < size / chunk.length; i++) parser.write(chunk);
    parser.write(str(')').subarray(0)); // no padding needed: size is a multiple of 8
    parser.end();
    expect(seen).toBe(size);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });
});
