// tar.xz and tar.bz2 layers: the archive walker with the decoders the scanner injects
// (decompress/archive-layers.ts), over archives made here by tar, xz and bzip2 from this machine's
// own libpng and zlib; bombs of zeros, corrupt and truncated streams, a hostile xz dictionary,
// nesting in a zip, and the walk-wide failure cap.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveStream, walkArchive, type ArchiveLimits, type WalkOptions, type WalkResult } from '../../archive/index.ts';
import { archiveLayerDecoders } from '../../decompress/archive-layers.ts';
import { decodeBzip2Bounded } from '../../decompress/bzip2-js.ts';
import { decodeXzBounded } from '../../decompress/xz-wasm.ts';

const LIBZ = '/usr/lib/x86_64-linux-gnu/libz.so.1';
const LIBPNG = '/usr/lib/x86_64-linux-gnu/libpng16.so.16';
const OPTIONS: WalkOptions = { layers: archiveLayerDecoders() };

let dir = '';
function sh(cmd: string): void {
  execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
}
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));
const hasWarning = (r: WalkResult, re: RegExp): boolean => r.warnings.some((w) => re.test(w));

type Collected = { result: WalkResult; members: Map<string, Uint8Array> };
function walk(bytes: Uint8Array, name: string, limits?: Partial<ArchiveLimits>, options = OPTIONS): Collected {
  const members = new Map<string, Uint8Array>();
  const result = walkArchive(bytes, limits, (path, data) => members.set(path, Uint8Array.from(data)), name, options);
  return { result, members };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vendorscan-layers-'));
  mkdirSync(join(dir, 'src/lib'), { recursive: true });
  copyFileSync(LIBZ, join(dir, 'src/lib/libz.so.1'));
  copyFileSync(LIBPNG, join(dir, 'src/lib/libpng16.so.16'));
  sh('tar -cJf libs.tar.xz -C src lib && tar -cjf libs.tar.bz2 -C src lib');
  // Two xz streams and two bzip2 streams back to back (what `cat a.xz b.xz` gives): one tar.
  sh('tar -cf libs.tar -C src lib && head -c 200000 libs.tar | xz > two.tar.xz && tail -c +200001 libs.tar | xz >> two.tar.xz');
  sh('head -c 200000 libs.tar | bzip2 > two.tar.bz2 && tail -c +200001 libs.tar | bzip2 >> two.tar.bz2');
  // Bombs: 64 MiB of zeros in a tar, then xz -9 / bzip2 -9 (a few KiB / a few hundred bytes).
  sh('head -c 67108864 /dev/zero > zeros && tar -cf - zeros | xz -9 > bomb.tar.xz && tar -cf - zeros | bzip2 -9 > bomb.tar.bz2');
  // Compressed files that are no tar (a kernel module is shipped as .ko.xz).
  sh('xz -c --check=crc32 src/lib/libz.so.1 > zlib.ko.xz && bzip2 -c zeros > zeros.bz2 && xz -c zeros > zeros.xz && rm zeros');
  // Nesting: a tar.xz and a tar.bz2 inside a zip.
  sh('mkdir n && cp libs.tar.xz libs.tar.bz2 n/ && cd n && zip -q0 ../outer.zip libs.tar.xz libs.tar.bz2');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tar.xz and tar.bz2 with injected decoders', () => {
  const libz = (): Uint8Array => new Uint8Array(readFileSync(LIBZ));
  const libpng = (): Uint8Array => new Uint8Array(readFileSync(LIBPNG));

  it('members of real tar.xz and tar.bz2 archives are found as x.tar.xz!/dir/file, whole and streamed', () => {
    for (const name of ['libs.tar.xz', 'libs.tar.bz2', 'two.tar.xz', 'two.tar.bz2']) {
      const { result, members } = walk(file(name), name);
      expect(result.warnings).toEqual([]);
      expect(result.format).toBe(name.endsWith('xz') ? 'xz' : 'bzip2');
      expect([...members.keys()].sort()).toEqual([`${name}!/lib/libpng16.so.16`, `${name}!/lib/libz.so.1`]);
      expect(same(members.get(`${name}!/lib/libz.so.1`), libz())).toBe(true);
      expect(same(members.get(`${name}!/lib/libpng16.so.16`), libpng())).toBe(true);

      const streamed = new Map<string, Uint8Array>();
      const s = new ArchiveStream(name, undefined, (p, d) => streamed.set(p, Uint8Array.from(d)), OPTIONS);
      const bytes = file(name);
      for (let at = 0; at < bytes.length; at += 5000) s.push(bytes.subarray(at, at + 5000));
      expect(s.end().warnings).toEqual([]);
      expect([...streamed.keys()].sort()).toEqual([...members.keys()].sort());
    }
  });

  it('nested: a tar.xz and a tar.bz2 inside a zip', () => {
    const { result, members } = walk(file('outer.zip'), 'app.zip');
    expect(result.warnings).toEqual([]);
    expect(same(members.get('app.zip!/libs.tar.xz!/lib/libz.so.1'), libz())).toBe(true);
    expect(same(members.get('app.zip!/libs.tar.bz2!/lib/libpng16.so.16'), libpng())).toBe(true);
  });

  it('without decoders the walker still says it did not open them', () => {
    const { result, members } = walk(file('libs.tar.bz2'), 'libs.tar.bz2', undefined, {});
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^libs\.tar\.bz2: bzip2 compression \(a tar\.bz2\?\) is not supported .*not opened/)).toBe(true);
  });

  it('a compressed file that is no tar (a .ko.xz, a .bz2 of zeros) is peeked at and left alone, silently', () => {
    for (const name of ['zlib.ko.xz', 'zeros.bz2', 'zeros.xz']) {
      const { result, members } = walk(file(name), name);
      expect(members.size).toBe(0);
      expect(result.warnings).toEqual([]);
    }
  });

  it('bombs: 64 MiB of zeros in a tar, xz -9 and bzip2 -9, are stopped at the ratio cap', () => {
    for (const [name, kind] of [['bomb.tar.xz', 'xz'], ['bomb.tar.bz2', 'bzip2']] as const) {
      const b = file(name);
      const { result, members } = walk(b, name);
      expect(members.size).toBe(0);
      expect(result.bytes).toBe(0);
      expect(hasWarning(result, new RegExp(`^${name.replaceAll('.', '\\.')}: ${kind} layer decompresses past \\d+ bytes, over 100:1 \\(a bomb\\); not opened`))).toBe(true);
    }
  });

  it('bzip2: a block is checked against its CRC even when the cap stops the output inside it', () => {
    // The stored CRC of the first block (after "BZh9" and the 6-byte block magic) made wrong: the
    // data decodes, and only the check at the block's end can tell. A 4 KiB peek used to stop
    // before it and hand back unchecked bytes (a corrupt tar.bz2 then looked like "not a tar").
    const bad = Uint8Array.from(file('libs.tar.bz2'));
    bad[10] = (bad[10] ?? 0) ^ 0xff;
    for (const cap of [4096, 100 << 20]) {
      const r = decodeBzip2Bounded(bad, cap);
      expect(r.ok, `cap ${cap}`).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(/crc32 do not match/);
    }
    const good = decodeBzip2Bounded(file('libs.tar.bz2'), 4096);
    expect(good.ok && good.overCap && good.data.length).toBe(4096);
  });

  it('the decoders never return more than asked for, and say there was more', () => {
    const tar = file('libs.tar');
    for (const [bomb, libs, decode] of [['bomb.tar.xz', 'libs.tar.xz', decodeXzBounded], ['bomb.tar.bz2', 'libs.tar.bz2', decodeBzip2Bounded]] as const) {
      const r = decode(file(bomb), 1024 * 1024);
      expect(r.ok && r.overCap && r.data.length === 1024 * 1024).toBe(true);
      const whole = decode(file(libs), 64 * 1024 * 1024);
      expect(whole.ok && !whole.overCap && same(whole.data, tar)).toBe(true);
      const exact = decode(file(libs), tar.length);
      expect(exact.ok && !exact.overCap).toBe(true);
      const short = decode(file(libs), tar.length - 1);
      expect(short.ok && short.overCap && short.data.length === tar.length - 1).toBe(true);
    }
  });

  it('a tar larger than the member cap is not decompressed past it', () => {
    const { result, members } = walk(file('libs.tar.xz'), 'libs.tar.xz', { maxMemberBytes: 100_000 });
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^libs\.tar\.xz: xz layer decompresses past the 100000-byte member cap/)).toBe(true);
  });

  it('corrupt and truncated streams are warnings, and the walk goes on to the next member', () => {
    const cases: [string, Uint8Array, RegExp][] = [];
    for (const [name, kind] of [['libs.tar.xz', 'xz'], ['libs.tar.bz2', 'bzip2']] as const) {
      const b = file(name);
      cases.push([`cut.${name}`, b.subarray(0, Math.floor(b.length / 2)), new RegExp(`${kind} layer: ${kind} data: .*(truncated|XZ_BUF_ERROR|XZ_DATA_ERROR)`)]);
      const flipped = Uint8Array.from(b);
      for (let i = 0, at = Math.floor(b.length / 2); i < 64; i++, at += 97) flipped[at] = (flipped[at] ?? 0) ^ 0x55;
      cases.push([`bad.${name}`, flipped, new RegExp(`${kind} layer: ${kind} data: `)]);
    }
    sh('rm -rf c && mkdir c');
    for (const [name, bytes] of cases) writeFileSync(join(dir, 'c', name), bytes);
    sh(`cp ${LIBZ} c/zz-libz.so.1 && cd c && zip -q0 ../corrupt.zip ${cases.map((c) => c[0]).join(' ')} zz-libz.so.1`);
    const { result, members } = walk(file('corrupt.zip'), 'corrupt.zip');
    for (const [name, , re] of cases) {
      expect(result.warnings.some((w) => w.startsWith(`corrupt.zip!/${name}: `) && re.test(w) && w.endsWith('not opened'))).toBe(true);
    }
    expect(same(members.get('corrupt.zip!/zz-libz.so.1'), libz())).toBe(true);
  });

  it('an xz whose first block asks for a huge dictionary is refused before decoding', () => {
    const b = Uint8Array.from(file('libs.tar.xz'));
    // Stream header (12) + block header: size byte, flags, filter id 0x21, props size 1, dictionary byte.
    expect([b[14], b[15]]).toEqual([0x21, 0x01]);
    b[16] = 40; // 4 GiB - 1
    const { result, members } = walk(b, 'huge.tar.xz');
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^huge\.tar\.xz: xz layer: the first block needs a 4294967295-byte dictionary, over the limit of 134217728 bytes; not opened/)).toBe(true);
    // The limit is the scanner's VENDORSCAN_MAX_WINDOW: an xz -6 stream (8 MiB) over a 1 MiB limit.
    const tight = walk(file('libs.tar.xz'), 'libs.tar.xz', undefined, { layers: archiveLayerDecoders(1024 * 1024) });
    expect(hasWarning(tight.result, /needs a 8388608-byte dictionary, over the limit of 1048576 bytes/)).toBe(true);
  });

  it('many corrupt tar.xz members: the walk stops after maxFailedDecompressions', () => {
    const cut = file('libs.tar.xz').subarray(0, 4000);
    sh('rm -rf m && mkdir m');
    for (let i = 0; i < 80; i++) writeFileSync(join(dir, 'm', `f${String(i).padStart(2, '0')}.tar.xz`), cut);
    sh('cd m && zip -q0 ../many.zip *.tar.xz');
    const { result } = walk(file('many.zip'), 'many.zip');
    expect(result.warnings.filter((w) => /xz layer: xz data/.test(w)).length).toBe(64);
    expect(hasWarning(result, /^many\.zip!\/f63\.tar\.xz: 64 decompressions failed on corrupt data; the walk stops here/)).toBe(true);
  });
});
