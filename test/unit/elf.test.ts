// formats/elf.ts, ar.ts and linkage.ts against real binaries of this machine (Debian packages),
// cross-checked with binutils where present, and against those binaries cut short or corrupted:
// a lying header must give ElfError/ArError naming a byte of the file, never another exception,
// and in bounded time.
//
// Needs the Debian packages: osslsigncode, libssl3 + libssl-dev (libcrypto.so.3, libcrypto.a),
// zlib1g-dev (libz.a), lib32z1 (an ELF32 libz.so.1), libc6-s390x-cross and libc6-powerpc-cross
// (big-endian ELF64 and ELF32 shared objects), binutils (readelf/nm for the cross-checks). Each
// test that lacks its file is skipped, naming the package in its title.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ElfError, parseElf, readElfLinkage } from '../../formats/elf.ts';
import { ArError, arMembers, isAr, readAr, readArIndex } from '../../formats/ar.ts';
import { classifyLinkage, sonameMatches } from '../../formats/linkage.ts';
import { loadSignatures } from '../../signatures/loader.ts';

const LIB = '/usr/lib/x86_64-linux-gnu';
const FILES = {
  osslsigncode: ['/usr/bin/osslsigncode', 'osslsigncode'],
  libcrypto: [`${LIB}/libcrypto.so.3`, 'libssl3'],
  libcryptoA: [`${LIB}/libcrypto.a`, 'libssl-dev'],
  libzA: [`${LIB}/libz.a`, 'zlib1g-dev'],
  libz32: ['/usr/lib32/libz.so.1', 'lib32z1'],
  s390xLibm: ['/usr/s390x-linux-gnu/lib/libm.so.6', 'libc6-s390x-cross'],
  s390xLibdl: ['/usr/s390x-linux-gnu/lib/libdl.so.2', 'libc6-s390x-cross'],
  ppcLibm: ['/usr/powerpc-linux-gnu/lib/libm.so.6', 'libc6-powerpc-cross'],
  ppcLibdl: ['/usr/powerpc-linux-gnu/lib/libdl.so.2', 'libc6-powerpc-cross'],
  // Suspects of the linkage sweep (npm run sweep): header version strings, shared library NEEDed.
  fontmanager: ['/usr/lib/jvm/java-17-openjdk-amd64/lib/libfontmanager.so', 'openjdk-17-jre-headless'],
  cryptography: ['/usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_openssl.abi3.so', 'python3-cryptography'],
  erlangCrypto: ['/usr/lib/erlang/lib/crypto-5.1.2/priv/lib/crypto.so', 'erlang-crypto'],
  opensslCli: ['/usr/bin/openssl', 'openssl'],
} as const;
type FileKey = keyof typeof FILES;

const cache = new Map<FileKey, Uint8Array>();
function file(key: FileKey): Uint8Array {
  let b = cache.get(key);
  if (!b) {
    b = new Uint8Array(readFileSync(FILES[key][0]));
    cache.set(key, b);
  }
  return b;
}
function missing(...keys: FileKey[]): FileKey[] {
  const absent = keys.filter((k) => !existsSync(FILES[k][0]));
  for (const k of absent) console.warn(`skipping: ${FILES[k][0]} is missing; install the Debian package ${FILES[k][1]}`);
  return absent;
}
/** A test over real files, skipped with the package to install when one is missing. */
function withFiles(name: string, keys: FileKey[], fn: () => void, timeout?: number): void {
  const absent = missing(...keys);
  const title = absent.length ? `${name} [skipped: apt-get install ${[...new Set(absent.map((k) => FILES[k][1]))].join(' ')}]` : name;
  it.skipIf(absent.length > 0)(title, fn, timeout);
}

function tool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const binutils = tool('readelf') && tool('nm');
if (!binutils) console.warn('skipping binutils cross-checks: install the Debian package binutils');

/** readelf's DT_NEEDED and DT_SONAME. */
function readelfDynamic(path: string): { needed: string[]; soname: string | null } {
  const out = execFileSync('readelf', ['-dW', path], { encoding: 'utf8' });
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]!);
  const soname = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(out)?.[1] ?? null;
  return { needed, soname };
}
/** nm's dynamic symbols, version suffixes cut. */
function nmDynamic(path: string, which: '--defined-only' | '--undefined-only'): Set<string> {
  const out = execFileSync('nm', ['-D', which, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return new Set(out.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).pop()!.replace(/@.*$/, '')));
}

function expectTypedError(e: unknown, length: number): void {
  if (!(e instanceof ElfError) && !(e instanceof ArError)) throw e;
  expect(Number.isInteger(e.offset)).toBe(true);
  expect(e.offset).toBeGreaterThanOrEqual(0);
  expect(e.offset).toBeLessThanOrEqual(length);
}

/** Runs `fn`, which must return or throw ElfError/ArError with an offset inside the file. */
function tolerant(bytes: Uint8Array, fn: (b: Uint8Array) => unknown): 'ok' | 'error' {
  try {
    fn(bytes);
    return 'ok';
  } catch (e) {
    expectTypedError(e, bytes.length);
    return 'error';
  }
}

// The libraries' identities as the bundled signatures declare them (their sonames/symbols meta).
const IDENTITIES = loadSignatures().identities;
const openssl = IDENTITIES.get('openssl')!;
const zlib = IDENTITIES.get('zlib')!;

describe('ELF linkage of real binaries', () => {
  withFiles('osslsigncode NEEDs libcrypto and libssl and is built against OpenSSL, not a copy', ['osslsigncode'], () => {
    const l = readElfLinkage(file('osslsigncode'))!;
    expect(l.needed).toContain('libcrypto.so.3');
    expect(l.needed).toContain('libssl.so.3');
    expect(l.soname).toBeNull();
    expect(l.hasSymbols).toBe(true);
    expect(l.imported).toContain('SSL_CTX_new');
    expect(l.defined).not.toContain('SSL_CTX_new');
    expect(classifyLinkage(file('osslsigncode'), openssl)).toEqual({ linkage: 'built-against', reason: 'NEEDs libssl.so.3' });
    expect(classifyLinkage(file('osslsigncode'), zlib).linkage).toBe('built-against');
    expect(classifyLinkage(file('osslsigncode'), IDENTITIES.get('libpng')!).linkage).toBe('unknown');
  });

  // Each suspect the sweep found (a finding in a file that NEEDs the library's soname and is not
  // the library): before linkage evidence each was reported as a vendored copy.
  withFiles("the sweep's suspects are built against the shared library, not copies", ['fontmanager', 'cryptography', 'erlangCrypto', 'opensslCli'], () => {
    // OpenJDK's font manager NEEDs libfreetype.so.6 (the freetype presence strings are FreeType's
    // header and error names); python3-cryptography's binding NEEDs libssl.so.3 and carries
    // OPENSSL_VERSION_TEXT from the headers it was compiled against.
    expect(classifyLinkage(file('fontmanager'), IDENTITIES.get('freetype')!)).toEqual({ linkage: 'built-against', reason: 'NEEDs libfreetype.so.6' });
    expect(readElfLinkage(file('fontmanager'))!.imported).toContain('FT_Init_FreeType');
    expect(classifyLinkage(file('cryptography'), openssl)).toEqual({ linkage: 'built-against', reason: 'NEEDs libssl.so.3' });
    expect(readElfLinkage(file('cryptography'))!.defined).not.toContain('OpenSSL_version');
    // Erlang's crypto NIF NEEDs only libcrypto.so.3; the openssl command line tool both.
    expect(classifyLinkage(file('erlangCrypto'), openssl)).toEqual({ linkage: 'built-against', reason: 'NEEDs libcrypto.so.3' });
    expect(classifyLinkage(file('opensslCli'), openssl)).toEqual({ linkage: 'built-against', reason: 'NEEDs libssl.so.3' });
  });

  withFiles('libcrypto.so.3 is a copy of OpenSSL: it is the library (DT_SONAME) and defines its functions', ['libcrypto'], () => {
    const l = readElfLinkage(file('libcrypto'))!;
    expect(l.soname).toBe('libcrypto.so.3');
    for (const s of ['OpenSSL_version', 'OpenSSL_version_num', 'EVP_DigestInit_ex']) expect(l.defined).toContain(s);
    expect(classifyLinkage(file('libcrypto'), openssl)).toEqual({ linkage: 'copy', reason: 'is the library itself (DT_SONAME libcrypto.so.3)' });
    const f = parseElf(file('libcrypto'))!;
    expect([f.bits, f.endian, f.type, f.machine]).toEqual([64, 'little', 3, 62]);
    expect(f.sections.some((s) => s.name === '.dynsym')).toBe(true);
    expect(f.symbols.find((s) => s.name === 'OpenSSL_version')).toMatchObject({ defined: true, type: 'func', binding: 'global', table: 'dynsym' });
    // The same file read as if it did not name itself: the definitions alone make it a copy.
    expect(classifyLinkage(file('libcrypto'), { sonames: [], symbols: openssl.symbols }).reason).toBe('defines OpenSSL_version');
  });

  withFiles('ELF32 and big-endian ELF32/ELF64 shared objects', ['libz32', 'ppcLibm', 's390xLibm'], () => {
    const z = parseElf(file('libz32'))!;
    expect([z.bits, z.endian, z.machine]).toEqual([32, 'little', 3]);
    expect(classifyLinkage(file('libz32'), zlib)).toEqual({ linkage: 'copy', reason: 'is the library itself (DT_SONAME libz.so.1)' });
    expect(readElfLinkage(file('libz32'))!.defined).toContain('zlibVersion');
    for (const [key, bits] of [['ppcLibm', 32], ['s390xLibm', 64]] as const) {
      const f = parseElf(file(key))!;
      expect([f.bits, f.endian]).toEqual([bits, 'big']);
      expect(f.soname).toBe('libm.so.6');
      expect(f.needed).toContain('libc.so.6');
      const l = readElfLinkage(file(key))!;
      expect(l.defined).toContain('cos');
      expect(classifyLinkage(file(key), { sonames: ['libm.so.*'], symbols: ['cos'] }).linkage).toBe('copy');
      expect(classifyLinkage(file(key), { sonames: ['libc.so.6'], symbols: ['malloc'] }).linkage).toBe('built-against');
    }
  });

  it.skipIf(!binutils)('agrees with readelf and nm on DT_NEEDED, DT_SONAME and the dynamic symbols', () => {
    const keys: FileKey[] = ['osslsigncode', 'libcrypto', 'libz32', 'ppcLibm', 's390xLibm', 'ppcLibdl', 's390xLibdl'];
    for (const key of keys.filter((k) => missing(k).length === 0)) {
      const path = FILES[key][0];
      const f = parseElf(file(key))!;
      expect({ needed: f.needed, soname: f.soname }, path).toEqual(readelfDynamic(path));
      const dyn = f.symbols.filter((s) => s.table === 'dynsym' && s.type !== 'section' && s.type !== 'file');
      expect(new Set(dyn.filter((s) => s.defined).map((s) => s.name)), path).toEqual(nmDynamic(path, '--defined-only'));
      expect(new Set(dyn.filter((s) => !s.defined).map((s) => s.name)), path).toEqual(nmDynamic(path, '--undefined-only'));
    }
  });

  withFiles('without section headers (sstrip-style) DT_NEEDED and DT_SONAME come from PT_DYNAMIC', ['osslsigncode', 'ppcLibm'], () => {
    for (const key of ['osslsigncode', 'ppcLibm'] as const) {
      const b = file(key).slice();
      const f = parseElf(b)!;
      const v = new DataView(b.buffer);
      const le = f.endian === 'little';
      if (f.bits === 64) {
        v.setBigUint64(40, 0n, le); // e_shoff
        v.setUint16(60, 0, le); // e_shnum
        v.setUint16(62, 0, le); // e_shstrndx
      } else {
        v.setUint32(32, 0, le);
        v.setUint16(48, 0, le);
        v.setUint16(50, 0, le);
      }
      const l = readElfLinkage(b)!;
      expect({ needed: l.needed, soname: l.soname }).toEqual({ needed: f.needed, soname: f.soname });
      expect(l.hasSymbols).toBe(false);
    }
    expect(classifyLinkage(file('osslsigncode'), openssl).linkage).toBe('built-against');
  });

  it("each library's signature meta (sonames, symbols) holds on its real shared object", () => {
    const own: [string, string][] = [
      ['openssl', `${LIB}/libcrypto.so.3`], ['openssl', `${LIB}/libssl.so.3`], ['zlib', `${LIB}/libz.so.1`],
      ['libpng', `${LIB}/libpng16.so.16`], ['libwebp', `${LIB}/libwebp.so.7`], ['expat', `${LIB}/libexpat.so.1`],
      ['libjpeg-turbo', `${LIB}/libjpeg.so.62`], ['libcurl', `${LIB}/libcurl.so.4`], ['libcurl', `${LIB}/libcurl-gnutls.so.4`],
      ['sqlite', `${LIB}/libsqlite3.so.0`], ['freetype', `${LIB}/libfreetype.so.6`],
    ];
    let checked = 0;
    for (const [library, path] of own) {
      if (!existsSync(path)) {
        console.warn(`skipping ${library}: ${path} is missing`);
        continue;
      }
      const id = IDENTITIES.get(library)!;
      const bytes = new Uint8Array(readFileSync(path));
      const l = readElfLinkage(bytes)!;
      expect(id.sonames.some((p) => sonameMatches(p, l.soname ?? '')), `${path}: DT_SONAME ${l.soname} in ${id.sonames.join(', ')}`).toBe(true);
      expect(id.symbols.filter((s) => l.defined.has(s)).length, `${path} defines one of ${id.symbols.join(', ')}`).toBeGreaterThan(0);
      expect(classifyLinkage(bytes, id).linkage).toBe('copy');
      // By the functions alone, too: a renamed or soname-less copy is still a copy.
      expect(classifyLinkage(bytes, { sonames: [], symbols: id.symbols }).reason).toMatch(/^defines /);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('is null for what is not ELF, and classifies it unknown', () => {
    for (const b of [new Uint8Array(0), new Uint8Array([0x7f, 0x45, 0x4c]), new TextEncoder().encode('#!/bin/sh\necho hi\n')]) {
      expect(readElfLinkage(b)).toBeNull();
      expect(parseElf(b)).toBeNull();
      expect(classifyLinkage(b, openssl)).toEqual({ linkage: 'unknown', reason: 'neither an ELF file nor an ar archive' });
    }
  });

  it('matches sonames exactly or by a trailing *', () => {
    expect(sonameMatches('libssl.so.*', 'libssl.so.3')).toBe(true);
    expect(sonameMatches('libssl.so.*', 'libssl.so.1.1')).toBe(true);
    expect(sonameMatches('libssl.so.*', 'libssl3.so')).toBe(false);
    expect(sonameMatches('libz.so.1', 'libz.so.1')).toBe(true);
    expect(sonameMatches('libz.so.1', 'libz.so.10')).toBe(false);
  });
});

describe('static archives', () => {
  withFiles('libz.a lists its objects and is a copy of zlib', ['libzA'], () => {
    const a = file('libzA');
    const members = readAr(a)!;
    const names = members.map((m) => m.name);
    for (const n of ['adler32.o', 'inflate.o', 'deflate.o']) expect(names).toContain(n);
    if (binutils) expect(names).toEqual(execFileSync('ar', ['t', FILES.libzA[0]], { encoding: 'utf8' }).trim().split('\n'));
    for (const m of members) expect(parseElf(a.subarray(m.offset, m.offset + m.size))!.type).toBe(1); // ET_REL
    const v = classifyLinkage(a, zlib);
    expect(v.linkage).toBe('copy');
    expect(v.reason).toMatch(/^archive member \S+\.o defines \w+$/);
    expect(classifyLinkage(a, openssl).linkage).toBe('unknown');
  });

  withFiles('libcrypto.a (GNU long-name table) is a copy of OpenSSL', ['libcryptoA'], () => {
    const a = file('libcryptoA');
    const members = readAr(a)!;
    expect(members.length).toBeGreaterThan(100);
    expect(members.some((m) => m.name.length > 15)).toBe(true); // names from the "//" table
    if (binutils) expect(members.map((m) => m.name)).toEqual(execFileSync('ar', ['t', FILES.libcryptoA[0]], { encoding: 'utf8', maxBuffer: 16 << 20 }).trim().split('\n'));
    expect(classifyLinkage(a, openssl).linkage).toBe('copy');
  });

  withFiles('an archive that only references a library was built against it', ['libzA'], () => {
    // libz.a's objects call libc's memcpy and define none of libc: built against libc.
    const v = classifyLinkage(file('libzA'), { sonames: [], symbols: ['memcpy'] });
    expect(v.linkage).toBe('built-against');
    expect(v.reason).toMatch(/^archive member \S+ references memcpy; no member defines/);
  });

  withFiles("reads the archive's symbol index and trusts it when members are not ELF (LTO bitcode)", ['libzA'], () => {
    const a = file('libzA');
    const index = readArIndex(a)!;
    const members = new Map(readAr(a)!.map((m) => [m.header, m.name]));
    expect(index.find((e) => e.symbol === 'zlibVersion')).toEqual({ symbol: 'zlibVersion', header: expect.any(Number) as unknown as number });
    expect(members.get(index.find((e) => e.symbol === 'zlibVersion')!.header)).toBe('zutil.o');
    if (binutils) {
      const nm = execFileSync('nm', ['-s', FILES.libzA[0]], { encoding: 'utf8' }).split('\n\n')[0]!.split('\n').filter((l) => l.includes(' in '));
      expect(index.map((e) => `${e.symbol} in ${members.get(e.header)}`)).toEqual(nm);
    }
    // Every member's ELF magic broken, as if they were bitcode: only the index still tells.
    const b = a.slice();
    for (const m of readAr(b)!) b[m.offset] = 0x42;
    expect(classifyLinkage(b, zlib)).toEqual({ linkage: 'copy', reason: "the archive's symbol index lists deflate as defined by member deflate.o" });
    expect(classifyLinkage(b, openssl).linkage).toBe('unknown');
    // A lying index: a count larger than the member, an entry pointing at no member header.
    expect(new TextDecoder().decode(a.subarray(8, 10))).toBe('/ '); // the index is the first member; its data at 68
    const big = a.slice();
    new DataView(big.buffer).setUint32(8 + 60, 0x7fffffff);
    expect(() => readArIndex(big)).toThrow(ArError);
    const stray = a.slice();
    new DataView(stray.buffer).setUint32(8 + 60 + 4, 12345);
    let error: unknown = null;
    try {
      readArIndex(stray);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArError);
    expect((error as ArError).offset).toBe(8 + 60 + 4);
  });

  it('reads BSD #1/ names and refuses thin archives and broken headers', () => {
    const enc = new TextEncoder();
    const header = (name: string, size: number): string => `${name.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '644'.padEnd(8) + String(size).padEnd(10)}\`\n`;
    const longName = 'a_rather_long_member_name.o';
    const bsd = enc.encode(`!<arch>\n${header('__.SYMDEF SORTED', 0)}${header(`#1/${longName.length}`, longName.length + 3)}${longName}abc${header('short.o/', 2)}xy`);
    expect(readAr(bsd)).toEqual([
      { name: longName, header: 8 + 60, offset: 8 + 60 + 60 + longName.length, size: 3 },
      { name: 'short.o', header: 8 + 60 + 60 + longName.length + 3, offset: 8 + 60 + 60 + longName.length + 3 + 60, size: 2 },
    ]);
    expect(readAr(enc.encode('!<arch>\n'))).toEqual([]);
    expect(readAr(enc.encode('not an archive'))).toBeNull();
    expect(isAr(enc.encode('!<thin>\n'))).toBe(false);
    expect(() => [...arMembers(enc.encode('!<thin>\n'))]).toThrow(ArError);
    const cases: [string, number][] = [
      [`!<arch>\n${header('x.o/', 100)}short`, 8 + 48], // size past the end
      [`!<arch>\n${header('x.o/', 2).replace('`\n', 'XX')}ab`, 8 + 58], // bad ar_fmag
      [`!<arch>\n${header('x.o/', 2).replace('2 ', '-2')}ab`, 8 + 48], // not a decimal
      [`!<arch>\n${header('/5', 2)}ab`, 8], // long name without a table
      [`!<arch>\n${header('//', 4)}ab/\n${header('/9', 0)}`, 8 + 60 + 4], // offset outside the table
      [`!<arch>\n${header('x.o/', 1)}aZ`, 8 + 60 + 1], // bad padding
      [`!<arch>\n${header('x.o/', 0)}tail`, 8 + 60], // a header cut short
    ];
    for (const [text, offset] of cases) {
      const bytes = enc.encode(text);
      let error: unknown = null;
      try {
        readAr(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(ArError);
      expect((error as ArError).offset, text).toBe(offset);
      expect(classifyLinkage(bytes, zlib).linkage).toBe('unknown');
    }
  });
});

describe('lying headers', () => {
  /** The osslsigncode bytes with `edit` applied; `edit` gets a little-endian ELF64 view. */
  function edited(edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
    const b = file('osslsigncode').slice();
    edit(new DataView(b.buffer), b);
    return b;
  }
  function thrown(b: Uint8Array): ElfError {
    try {
      readElfLinkage(b);
    } catch (e) {
      if (e instanceof ElfError) return e;
      throw e;
    }
    throw new Error('expected an ElfError');
  }

  withFiles('every header field that points outside the file is an ElfError at that field', ['osslsigncode'], () => {
    const f = parseElf(file('osslsigncode'))!;
    const shoff = Number(new DataView(file('osslsigncode').buffer).getBigUint64(40, true));
    const dynsym = f.sections.find((s) => s.name === '.dynsym')!;
    const dynamic = f.sections.find((s) => s.name === '.dynamic')!;
    const dynstr = f.sections[dynsym.link]!;
    const sh = (s: { index: number }, field: number): number => shoff + s.index * 64 + field;
    const cases: [string, Uint8Array, number][] = [
      ['EI_CLASS', edited((_, b) => (b[4] = 3)), 4],
      ['EI_DATA', edited((_, b) => (b[5] = 0)), 5],
      ['EI_VERSION', edited((_, b) => (b[6] = 2)), 6],
      ['e_shoff past the end', edited((v) => v.setBigUint64(40, BigInt(v.byteLength), true)), 40],
      ['e_shoff near 2^64', edited((v) => v.setBigUint64(40, 0xfffffffffffffff0n, true)), 40],
      ['e_phoff past the end', edited((v) => v.setBigUint64(32, 1n << 40n, true)), 32],
      ['e_shentsize', edited((v) => v.setUint16(58, 63, true)), 58],
      ['e_shnum too many', edited((v) => v.setUint16(60, 0xfff0, true)), 40],
      ['e_shstrndx out of range', edited((v) => v.setUint16(62, 0xfff0, true)), 62],
      ['e_shstrndx not a strtab', edited((v) => v.setUint16(62, dynsym.index, true)), 62],
      ['.dynsym sh_offset', edited((v) => v.setBigUint64(sh(dynsym, 24), BigInt(v.byteLength - 8), true)), sh(dynsym, 24)],
      ['.dynsym sh_size', edited((v) => v.setBigUint64(sh(dynsym, 32), 1n << 62n, true)), sh(dynsym, 24)],
      ['.dynsym sh_entsize', edited((v) => v.setBigUint64(sh(dynsym, 56), 23n, true)), sh(dynsym, 56)],
      ['.dynsym sh_link', edited((v) => v.setUint32(sh(dynsym, 40), 9999, true)), sh(dynsym, 40)],
      ['.dynamic sh_link to a non-strtab', edited((v) => v.setUint32(sh(dynamic, 40), dynsym.index, true)), sh(dynamic, 40)],
      ['st_name past .dynstr', edited((v) => v.setUint32(dynsym.offset + 24, dynstr.size + 5, true)), dynsym.offset + 24],
      ['DT_NEEDED past .dynstr', edited((v) => v.setBigUint64(dynamic.offset + 8, BigInt(dynstr.size), true)), dynamic.offset],
    ];
    for (const [what, bytes, offset] of cases) {
      const e = thrown(bytes);
      expect(e.offset, `${what}: ${e.message}`).toBe(offset);
      expect(e.message).toContain(`at byte ${offset}`);
      expect(classifyLinkage(bytes, openssl)).toEqual({ linkage: 'unknown', reason: `malformed ELF: ${e.message}` });
    }
    // .dynstr without a NUL: the first name read runs off the table.
    const noNul = edited((_, b) => b.fill(0x41, dynstr.offset, dynstr.offset + dynstr.size));
    expect(thrown(noNul).message).toMatch(/not NUL-terminated/);
  });

  withFiles('every prefix of a real binary is null (under 4 bytes) or an ElfError inside the file', ['osslsigncode', 'ppcLibdl'], () => {
    for (const key of ['osslsigncode', 'ppcLibdl'] as const) {
      const whole = file(key);
      const lengths = new Set<number>([0, 1, 3, 4, 5, 15, 16, 17, 51, 52, 53, 63, 64, 65]);
      for (let n = 0; n < whole.length; n += 997) lengths.add(n);
      for (let n = whole.length - 200; n < whole.length; n++) lengths.add(n);
      for (const n of lengths) {
        const cut = whole.subarray(0, n);
        if (n < 4) {
          expect(readElfLinkage(cut)).toBeNull();
          continue;
        }
        // The section header table sits at the end of these files: any cut loses part of it.
        expect(tolerant(cut, readElfLinkage), `${key} cut to ${n}`).toBe('error');
      }
    }
  });
});

describe('mutation fuzzing', () => {
  /** xorshift32: the same mutations on every run. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
  }
  const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

  /** Offsets worth hitting in an ELF: the header, section headers, and the start of each table. */
  function elfHotspots(b: Uint8Array): number[] {
    const f = parseElf(b)!;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const le = f.endian === 'little';
    const shoff = f.bits === 64 ? Number(v.getBigUint64(40, le)) : v.getUint32(32, le);
    const shsize = f.bits === 64 ? 64 : 40;
    const spots: number[] = [];
    for (let i = 0; i < (f.bits === 64 ? 64 : 52); i++) spots.push(i);
    for (const s of f.sections) {
      for (let i = 0; i < shsize; i++) spots.push(shoff + s.index * shsize + i);
      if ([2, 3, 6, 11].includes(s.type)) for (let i = 0; i < Math.min(s.size, 96); i++) spots.push(s.offset + i);
    }
    return spots;
  }
  /** Offsets worth hitting in an ar archive: its member headers. */
  function arHotspots(b: Uint8Array): number[] {
    const spots: number[] = [];
    let pos = 8;
    while (pos + 60 <= b.length) {
      for (let i = 0; i < 60; i++) spots.push(pos + i);
      const size = Number(new TextDecoder().decode(b.subarray(pos + 48, pos + 58)).trim());
      pos += 60 + size + (size & 1);
    }
    return spots;
  }

  function mutate(base: Uint8Array, spots: number[], next: () => number): Uint8Array {
    const kind = next() % 10;
    if (kind === 0) return base.subarray(0, next() % (base.length + 1)); // truncate
    const b = base.slice();
    const v = new DataView(b.buffer);
    const rounds = 1 + (next() % 3);
    for (let r = 0; r < rounds; r++) {
      const at = kind === 1 ? next() % b.length : spots[next() % spots.length]!;
      const value = next() % 2 ? INTERESTING[next() % INTERESTING.length]! : next();
      const le = next() % 2 === 0;
      const width = [1, 2, 4, 8][next() % 4]!;
      if (at + width > b.length) continue;
      if (width === 1) v.setUint8(at, value & 0xff);
      else if (width === 2) v.setUint16(at, value & 0xffff, le);
      else if (width === 4) v.setUint32(at, value, le);
      else v.setBigUint64(at, BigInt(value) * BigInt(next() % 3 === 0 ? 0x100000000 : 1), le);
    }
    return b;
  }

  withFiles(
    'thousands of mutated headers: only typed errors with in-file offsets, in bounded time',
    ['libzA', 'libz32', 'ppcLibdl', 's390xLibdl', 'osslsigncode'],
    () => {
      const za = file('libzA');
      const inflate = readAr(za)!.find((m) => m.name === 'inflate.o')!;
      const bases: [string, Uint8Array, number][] = [
        ['inflate.o (ET_REL, .symtab)', za.subarray(inflate.offset, inflate.offset + inflate.size), 1500],
        ['lib32 libz.so.1 (ELF32)', file('libz32'), 700],
        ['powerpc libdl.so.2 (ELF32 MSB)', file('ppcLibdl'), 700],
        ['s390x libdl.so.2 (ELF64 MSB)', file('s390xLibdl'), 1000],
        ['osslsigncode (ELF64 LSB)', file('osslsigncode'), 300],
        ['libz.a (ar)', za, 800],
      ];
      const next = rng(0x5eed);
      let worst = 0;
      const started = performance.now();
      const outcomes = { ok: 0, error: 0 };
      for (const [, base, rounds] of bases) {
        const spots = isAr(base) ? arHotspots(base) : elfHotspots(base);
        for (let i = 0; i < rounds; i++) {
          const b = mutate(base, spots, next);
          const t = performance.now();
          const parsers = isAr(base) ? [readAr, readArIndex, (x: Uint8Array) => classifyLinkage(x, zlib)] : [readElfLinkage, parseElf, (x: Uint8Array) => classifyLinkage(x, zlib)];
          for (const p of parsers) outcomes[tolerant(b, p)]++;
          worst = Math.max(worst, performance.now() - t);
        }
      }
      const total = performance.now() - started;
      console.log(`fuzz: ${outcomes.ok} parses, ${outcomes.error} typed errors, worst ${worst.toFixed(1)} ms, total ${total.toFixed(0)} ms`);
      expect(outcomes.error).toBeGreaterThan(500); // the mutations do reach the checks
      expect(outcomes.ok).toBeGreaterThan(500);
      expect(worst).toBeLessThan(2000);
    },
    120_000,
  );
});
