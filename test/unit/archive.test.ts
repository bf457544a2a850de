// The archive walker against real archives made here by zip, jar and tar from this machine's own
// binaries, against asar files built from the format's facts (electron/asar disk.ts), against
// each kind of lie or bomb, and against thousands of deterministic mutations of all of them.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveStream,
  DEFAULT_ARCHIVE_LIMITS,
  sniffArchive,
  walkArchive,
  zstdAvailable,
  type ArchiveLimits,
  type WalkResult,
} from '../../archive/index.ts';

const LIBZ = '/usr/lib/x86_64-linux-gnu/libz.so.1';
const TEXT = 'vendorscan archive test\nsecond line\n';

const have = (tool: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const HAVE_JAR = have('jar');

let dir = '';
let libz = new Uint8Array(0);
const text = new TextEncoder().encode(TEXT);

function sh(cmd: string, cwd = dir): void {
  execFileSync('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));

type Collected = { result: WalkResult; members: Map<string, Uint8Array> };
function walk(bytes: Uint8Array, name: string, limits?: Partial<ArchiveLimits>): Collected {
  const members = new Map<string, Uint8Array>();
  const result = walkArchive(bytes, limits, (path, data) => members.set(path, Uint8Array.from(data)), name);
  return { result, members };
}
function stream(bytes: Uint8Array, name: string, chunk: (i: number) => number, limits?: Partial<ArchiveLimits>): Collected {
  const members = new Map<string, Uint8Array>();
  const s = new ArchiveStream(name, limits, (path, data) => members.set(path, Uint8Array.from(data)));
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, chunk(i));
    s.push(bytes.subarray(at, at + n));
    at += n;
  }
  return { result: s.end(), members };
}
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));
const hasWarning = (r: WalkResult, re: RegExp): boolean => r.warnings.some((w) => re.test(w));

/** An asar from the format's facts: size pickle (4, headerSize), header pickle (payload, JSON length, JSON padded to 4), data. */
function buildAsar(files: { path: string; data: Uint8Array }[], lie?: (header: Record<string, unknown>) => void): Uint8Array {
  const root: { files: Record<string, unknown> } = { files: {} };
  let offset = 0;
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node.files[p] ??= { files: {} };
      const next = node.files[p] as { files: Record<string, unknown> };
      node = next;
    }
    node.files[parts[parts.length - 1] ?? ''] = { size: f.data.length, offset: String(offset) };
    offset += f.data.length;
  }
  lie?.(root);
  const json = Buffer.from(JSON.stringify(root));
  const padded = Math.ceil(json.length / 4) * 4;
  const payload = 4 + padded;
  const headerSize = 4 + payload;
  const out = Buffer.alloc(8 + headerSize + offset);
  out.writeUInt32LE(4, 0);
  out.writeUInt32LE(headerSize, 4);
  out.writeUInt32LE(payload, 8);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, 16);
  let at = 8 + headerSize;
  for (const f of files) {
    out.set(f.data, at);
    at += f.data.length;
  }
  return new Uint8Array(out);
}

/** Central directory entries of a zip: [offset of the entry, offset of its local header]. */
function centralEntries(b: Uint8Array): { cd: number; local: number }[] {
  const v = Buffer.from(b);
  const eocd = v.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const n = v.readUInt16LE(eocd + 10);
  let at = v.readUInt32LE(eocd + 16);
  const out: { cd: number; local: number }[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ cd: at, local: v.readUInt32LE(at + 42) });
    at += 46 + v.readUInt16LE(at + 28) + v.readUInt16LE(at + 30) + v.readUInt16LE(at + 32);
  }
  return out;
}

/** Rewrites a tar header's checksum after a field was patched. */
function fixTarChecksum(b: Uint8Array, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[at + i] ?? 0;
  b.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), at + 148);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vendorscan-archive-'));
  libz = new Uint8Array(readFileSync(LIBZ));
  mkdirSync(join(dir, 'src/docs'), { recursive: true });
  mkdirSync(join(dir, 'src/natives/linux-x86_64'), { recursive: true });
  copyFileSync(LIBZ, join(dir, 'src/natives/linux-x86_64/libz.so.1'));
  writeFileSync(join(dir, 'src/docs/readme.txt'), TEXT);
  sh('zip -qr ../plain.zip natives docs', join(dir, 'src'));
  sh('zip -qr0 ../stored.zip natives docs', join(dir, 'src'));
  sh('zip -qr - natives docs | cat > ../piped.zip', join(dir, 'src'));
  sh('zip -qr -fz ../z64.zip natives docs', join(dir, 'src')); // forced zip64 records
  // A wheel as Python's zipfile writes it.
  sh(`python3 -c "import zipfile; z = zipfile.ZipFile('py.whl', 'w', zipfile.ZIP_DEFLATED); z.write('src/${SO}', '${SO}'); z.write('src/docs/readme.txt', 'docs/readme.txt'); z.close()"`);
  sh('tar -cf plain.tar -C src natives docs');
  sh('tar --format=v7 -cf v7.tar -C src natives docs');
  sh('tar -czf plain.tar.gz -C src natives docs');
  sh('tar --zstd -cf plain.tar.zst -C src natives docs');
  sh('tar -cJf plain.tar.xz -C src docs');
  if (HAVE_JAR) sh('jar cf lib.jar -C src natives -C src docs');
  else sh('cp plain.zip lib.jar');
  // jar-in-zip-in-tar.gz: three levels, the deepest the walker opens.
  mkdirSync(join(dir, 'nest'));
  sh('cp lib.jar nest/ && cd nest && zip -q ../inner.zip lib.jar && cd .. && mkdir -p outer && cp inner.zip outer/ && tar -czf nested.tar.gz -C outer inner.zip');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SO = 'natives/linux-x86_64/libz.so.1';
const TXT = 'docs/readme.txt';

describe('real archives', () => {
  it.each([
    ['plain.zip', 'zip'],
    ['stored.zip', 'zip'],
    ['piped.zip', 'zip'],
    ['z64.zip', 'zip'],
    ['py.whl', 'zip'],
    ['lib.jar', 'zip'],
    ['plain.tar', 'tar'],
    ['v7.tar', 'tar'],
    ['plain.tar.gz', 'gzip'],
    ['plain.tar.zst', 'zstd'],
  ])('%s: every member, byte for byte, under outer!/path', (name, format) => {
    const { result, members } = walk(file(name), name);
    expect(result.format).toBe(format);
    if (format === 'zstd' && !zstdAvailable) {
      // Node < 22.15 has no zstd in node:zlib: said, not opened.
      expect(result.warnings).toEqual([`${name}: zstd needs node:zlib zstd (Node >= 22.15): unsupported compression here, not opened`]);
      return;
    }
    expect(result.warnings).toEqual([]);
    expect(same(members.get(`${name}!/${SO}`), libz)).toBe(true);
    expect(same(members.get(`${name}!/${TXT}`), text)).toBe(true);
  });

  it('recognises by bytes, never by name', () => {
    expect(walk(file('plain.zip'), 'notes.txt').members.has(`notes.txt!/${SO}`)).toBe(true);
    const elf = walk(libz, 'lib.jar');
    expect(elf.result.format).toBeNull();
    expect(elf.members.size).toBe(0);
    expect(sniffArchive(text)).toBeNull();
  });

  it('jar data descriptors (flag bit 3) are followed', () => {
    const jar = file('lib.jar');
    if (HAVE_JAR) expect(Buffer.from(jar).readUInt16LE(6) & 8).toBe(8);
    const { members } = walk(jar, 'lib.jar');
    expect(same(members.get(`lib.jar!/${SO}`), libz)).toBe(true);
  });

  it('a tar.gz whose tar is larger than the member cap is not decompressed past it (the tar would be held whole)', () => {
    const { result, members } = walk(file('plain.tar.gz'), 'plain.tar.gz', { maxMemberBytes: 64 * 1024 });
    expect(members.size).toBe(0);
    expect(result.warnings).toEqual(['plain.tar.gz: gzip layer decompresses past the 65536-byte member cap (a tar too big to hold); not opened']);
  });

  it('nested jar in zip in tar.gz: a.tar.gz!/inner.zip!/lib.jar!/natives/…', () => {
    const { result, members } = walk(file('nested.tar.gz'), 'nested.tar.gz');
    expect(result.warnings).toEqual([]);
    expect(members.has('nested.tar.gz!/inner.zip')).toBe(true);
    expect(members.has('nested.tar.gz!/inner.zip!/lib.jar')).toBe(true);
    expect(same(members.get(`nested.tar.gz!/inner.zip!/lib.jar!/${SO}`), libz)).toBe(true);
    expect(same(members.get(`nested.tar.gz!/inner.zip!/lib.jar!/${TXT}`), text)).toBe(true);
  });

  it('asar: Electron app with a native module and wasm-like payload', () => {
    const asar = buildAsar([
      { path: 'package.json', data: text },
      { path: 'node_modules/zlib/build/Release/libz.so.1', data: libz },
    ]);
    const { result, members } = walk(asar, 'app.asar');
    expect(result.format).toBe('asar');
    expect(result.warnings).toEqual([]);
    expect(same(members.get('app.asar!/package.json'), text)).toBe(true);
    expect(same(members.get('app.asar!/node_modules/zlib/build/Release/libz.so.1'), libz)).toBe(true);
  });

  it('asar streamed in 512-byte chunks: a JSON header longer than the first chunk is still recognised', () => {
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `node_modules/pkg${i}/index.js`, data: text }));
    const asar = buildAsar([...files, { path: 'build/Release/libz.so.1', data: libz }]);
    const { result, members } = stream(asar, 'app.asar', () => 512);
    expect(result.format).toBe('asar');
    expect(result.warnings).toEqual([]);
    expect(same(members.get('app.asar!/build/Release/libz.so.1'), libz)).toBe(true);
  });

  it('asar inside a zip inside a tar', () => {
    const asar = buildAsar([{ path: 'lib/libz.so.1', data: libz }]);
    writeFileSync(join(dir, 'app.asar'), asar);
    sh('rm -rf asarnest && mkdir asarnest && zip -q asarnest/app.zip app.asar && tar -cf asarnest.tar -C asarnest app.zip');
    const { members } = walk(file('asarnest.tar'), 'x.tar');
    expect(same(members.get('x.tar!/app.zip!/app.asar!/lib/libz.so.1'), libz)).toBe(true);
  });

  it('a zip with a launcher script before it, offsets adjusted by zip -A or not', () => {
    sh('printf "#!/bin/sh\\nexec java -jar \\"$0\\"\\n" > head.sh && cat head.sh plain.zip > prefixed.zip && cp prefixed.zip adjusted.zip && zip -qA adjusted.zip');
    for (const name of ['prefixed.zip', 'adjusted.zip']) {
      const { result, members } = walk(file(name), name);
      expect(result.format).toBe('zip');
      expect(same(members.get(`${name}!/${SO}`), libz)).toBe(true);
    }
    expect(hasWarning(walk(file('prefixed.zip'), 'p').result, /bytes precede the zip/)).toBe(true);
  });

  it('streaming: a "#!" file is kept and walked at its end when a zip follows the script (launcher jar, zipapp)', () => {
    sh('printf "#!/bin/sh\\nexec java -jar \\"$0\\"\\n" > launch.sh && cat launch.sh lib.jar > launcher.jar && zip -qA launcher.jar');
    sh(`python3 -m zipapp src -o app.pyz -p "/usr/bin/env python3" -m "app:main"`);
    for (const name of ['launcher.jar', 'app.pyz']) {
      const whole = walk(file(name), name);
      for (const chunking of [(): number => 512, (i: number): number => 1 + ((i * 7919) % 70_001)]) {
        const { result, members } = stream(file(name), name, chunking);
        expect(result.format).toBe('zip');
        expect(result.warnings).toEqual(whole.result.warnings);
        expect(same(members.get(`${name}!/${SO}`), libz)).toBe(true);
      }
    }
    // A script with no zip after it, and one over the in-memory cap: nothing found, nothing said.
    sh('head -c 200000 /dev/urandom | base64 | sed "1i #!/bin/sh" > plain.sh');
    const plain = stream(file('plain.sh'), 'plain.sh', () => 4096);
    expect(plain.result).toEqual({ format: null, members: 0, bytes: 0, warnings: [] });
    const over = stream(file('launcher.jar'), 'launcher.jar', () => 4096, { maxInMemoryBytes: 16 * 1024 });
    expect(over.result).toEqual({ format: null, members: 0, bytes: 0, warnings: [] });
  });

  it('pax and GNU long names', () => {
    const long = `${'d'.repeat(120)}/${'n'.repeat(130)}.so`;
    mkdirSync(join(dir, 'long', 'd'.repeat(120)), { recursive: true });
    copyFileSync(LIBZ, join(dir, 'long', long));
    sh('tar --format=pax -cf pax.tar -C long . && tar --format=gnu -cf gnu.tar -C long .');
    for (const name of ['pax.tar', 'gnu.tar']) {
      const { result, members } = walk(file(name), name);
      expect(result.warnings).toEqual([]);
      expect(same(members.get(`${name}!/${long}`), libz)).toBe(true);
    }
  });

  it("the caller's own exception leaves the walk unchanged, from any depth", () => {
    const boom = new Error('stop here');
    const thrower = (path: string): void => {
      if (path.endsWith(SO)) throw boom;
    };
    expect(() => walkArchive(file('nested.tar.gz'), undefined, thrower, 'n')).toThrow(boom);
    const s = new ArchiveStream('n', undefined, thrower);
    s.push(file('nested.tar.gz'));
    expect(() => s.end()).toThrow(boom);
    const z = new ArchiveStream('j', { maxInMemoryBytes: 1024 }, thrower);
    expect(() => z.push(file('lib.jar'))).toThrow(boom);
  });

  it('tar.xz is reported, not opened', () => {
    const { result, members } = walk(file('plain.tar.xz'), 'plain.tar.xz');
    expect(result.format).toBe('xz');
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^plain\.tar\.xz: xz compression .*unsupported compression/)).toBe(true);
  });

  it('streaming: a zip larger than the in-memory cap is read by its local headers, any chunking', () => {
    const limits = { maxInMemoryBytes: 16 * 1024 };
    for (const name of ['plain.zip', 'stored.zip', 'piped.zip', 'z64.zip', 'py.whl', 'lib.jar']) {
      const whole = walk(file(name), name).members;
      for (const chunking of [(): number => 1 + 4095, (i: number): number => 1 + ((i * 7919) % 70_001), (): number => 1 << 20]) {
        const { result, members } = stream(file(name), name, chunking, limits);
        expect(result.warnings.filter((w) => !/read as a stream of local headers/.test(w))).toEqual([]);
        expect([...members.keys()].sort()).toEqual([...whole.keys()].sort());
        for (const [k, v] of whole) expect(same(members.get(k), v)).toBe(true);
      }
    }
  });

  it('streaming: data descriptors without their optional signature are found too', () => {
    const z = Buffer.from(file('piped.zip'));
    const cuts: number[] = [];
    for (const e of centralEntries(z)) {
      if ((z.readUInt16LE(e.cd + 8) & 8) === 0) continue;
      const data = e.local + 30 + z.readUInt16LE(e.local + 26) + z.readUInt16LE(e.local + 28);
      const at = data + z.readUInt32LE(e.cd + 20);
      if (z.readUInt32LE(at) === 0x08074b50) cuts.push(at);
    }
    expect(cuts.length).toBeGreaterThan(1);
    const parts: Buffer[] = [];
    let from = 0;
    for (const at of cuts.sort((a, b) => a - b)) {
      parts.push(z.subarray(from, at));
      from = at + 4;
    }
    parts.push(z.subarray(from));
    const unsigned = new Uint8Array(Buffer.concat(parts));
    const { result, members } = stream(unsigned, 'u.zip', (i) => 1 + ((i * 104_729) % 50_000), { maxInMemoryBytes: 4096 });
    expect(result.warnings.filter((w) => !/read as a stream of local headers/.test(w))).toEqual([]);
    expect(same(members.get(`u.zip!/${SO}`), libz)).toBe(true);
    expect(same(members.get(`u.zip!/${TXT}`), text)).toBe(true);
  });

  it('streaming: a data-descriptor member over the member cap ends the zip with a warning', () => {
    const { result, members } = stream(file('piped.zip'), 'p.zip', () => 8192, { maxInMemoryBytes: 4096, maxMemberBytes: 32 * 1024 });
    expect(members.has(`p.zip!/${SO}`)).toBe(false);
    expect(hasWarning(result, /^p\.zip: ".*libz\.so\.1": no data descriptor within the 32768-byte member cap; a streamed zip cannot be followed past it; stopped/)).toBe(true);
  });

  it('streaming: small archives are buffered and walked whole; other files are dropped after 512 bytes', () => {
    const tgz = stream(file('nested.tar.gz'), 'n.tgz', () => 1000);
    expect(same(tgz.members.get(`n.tgz!/inner.zip!/lib.jar!/${SO}`), libz)).toBe(true);
    const elf = stream(libz, 'libz.so.1', () => 4096);
    expect(elf.result.format).toBeNull();
    expect(elf.members.size).toBe(0);
  });

  it('streaming: a tar over the in-memory cap is refused with a warning', () => {
    const { result, members } = stream(file('plain.tar'), 'big.tar', () => 8192, { maxInMemoryBytes: 16 * 1024 });
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^big\.tar: tar archive over the 16384-byte in-memory cap/)).toBe(true);
  });

  it('a truncated zip (no central directory) is read by its local headers as far as it goes', () => {
    const z = file('plain.zip');
    // Cut the zip just after the shared library: the members before it survive, its end does not.
    const entries = centralEntries(z).sort((a, b) => a.local - b.local);
    const so = entries.findIndex((e) => Buffer.from(z).toString('latin1', e.cd + 46, e.cd + 46 + Buffer.from(z).readUInt16LE(e.cd + 28)) === SO);
    const cut = z.subarray(0, entries[so + 1]?.local ?? 0);
    const { result, members } = walk(cut, 'cut.zip');
    expect(hasWarning(result, /^cut\.zip: no end of central directory record \(truncated\?\); reading local headers in order instead/)).toBe(true);
    expect(same(members.get(`cut.zip!/${SO}`), libz)).toBe(true);
  });
});

describe('bombs and lies become warnings', () => {
  it('zip bomb: 20 MiB of zeros in a few KiB', () => {
    sh('head -c 20971520 /dev/zero > zeros && zip -q9 bomb.zip zeros && rm zeros');
    const { result, members } = walk(file('bomb.zip'), 'bomb.zip');
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^bomb\.zip: "zeros": zip bomb: \d+ compressed bytes claim 20971520 \(\d+:1, over 100:1\)/)).toBe(true);
  });

  it('42.zip-style nesting: nothing opened past depth 3', () => {
    sh('rm -rf n42 && mkdir n42 && cp src/docs/readme.txt n42/l0 && cd n42 && for i in 1 2 3 4 5; do zip -q l$i.zip l$((i-1))* ; done');
    const { result, members } = walk(file('n42/l5.zip'), 'l5.zip');
    expect(members.has('l5.zip!/l4.zip!/l3.zip!/l2.zip')).toBe(true);
    expect([...members.keys()].some((k) => k.split('!/').length > 4)).toBe(false);
    expect(hasWarning(result, /^l5\.zip!\/l4\.zip!\/l3\.zip!\/l2\.zip: zip archive nested deeper than 3 levels; not opened/)).toBe(true);
  });

  it('42.zip-style fan-out: the walk-wide byte cap stops it', () => {
    sh('rm -rf fan && mkdir fan && cd fan && head -c 262144 /dev/urandom > r && zip -q0 a.zip r && for i in $(seq 1 16); do cp a.zip a$i.zip; done && zip -q0 b.zip a*.zip && for i in $(seq 1 16); do cp b.zip b$i.zip; done && zip -q0 c.zip b*.zip');
    const limits = { maxTotalBytes: 16 * 1024 * 1024 };
    const { result } = walk(file('fan/c.zip'), 'c.zip', limits);
    expect(result.bytes).toBeLessThanOrEqual(limits.maxTotalBytes);
    expect(hasWarning(result, /more bytes would pass the 16777216-byte total cap; the rest is not read/)).toBe(true);
  });

  it('member count cap', () => {
    const { result, members } = walk(file('plain.zip'), 'p.zip', { maxMembers: 1 });
    expect(members.size).toBe(1);
    expect(hasWarning(result, /^p\.zip: central directory lists \d+ entries, over the 1-member cap; the rest are not read/)).toBe(true);
    const tar = walk(file('plain.tar'), 'p.tar', { maxMembers: 1 });
    expect(tar.members.size).toBe(1);
    expect(hasWarning(tar.result, /^p\.tar: member cap of 1 reached; the rest is not read/)).toBe(true);
  });

  it('a member claiming 4 GB', () => {
    const z = Buffer.from(file('plain.zip'));
    for (const e of centralEntries(z)) {
      if (z.toString('latin1', e.cd + 46, e.cd + 46 + z.readUInt16LE(e.cd + 28)) !== SO) continue;
      z.writeUInt32LE(0xfffffff0, e.cd + 24);
      z.writeUInt32LE(0xfffffff0, e.local + 22);
    }
    const { result, members } = walk(new Uint8Array(z), 'huge.zip');
    expect(members.has(`huge.zip!/${SO}`)).toBe(false);
    expect(members.has(`huge.zip!/${TXT}`)).toBe(true);
    expect(hasWarning(result, new RegExp(`^huge\\.zip: "${SO}": claims 4294967280 bytes, over the 268435456-byte member cap; skipped`))).toBe(true);
  });

  it('a declared size smaller than the data: zlib stops at it', () => {
    const z = Buffer.from(file('plain.zip'));
    for (const e of centralEntries(z)) {
      if (z.toString('latin1', e.cd + 46, e.cd + 46 + z.readUInt16LE(e.cd + 28)) !== SO) continue;
      z.writeUInt32LE(1000, e.cd + 24);
      z.writeUInt32LE(1000, e.local + 22);
    }
    const { result } = walk(new Uint8Array(z), 'small.zip');
    expect(hasWarning(result, /inflates past its declared 1000 bytes \(the header lies\); skipped/)).toBe(true);
  });

  it('central directory disagreeing with the local header', () => {
    const z = Buffer.from(file('plain.zip'));
    const first = centralEntries(z).find((e) => z.readUInt32LE(e.cd + 24) > 0);
    if (!first) throw new Error('no file entry');
    z.writeUInt32LE(z.readUInt32LE(first.local + 22) + 1, first.local + 22);
    const { result } = walk(new Uint8Array(z), 'liar.zip');
    expect(hasWarning(result, /^liar\.zip: ".*": the local header disagrees with the central directory on size \d+ \(central \d+\); skipped/)).toBe(true);
  });

  it('overlapping entries (the overlapping-file bomb): second use of the same bytes refused', () => {
    // Duplicate the central directory: every entry listed twice, pointing at the same local headers.
    const z = Buffer.from(file('plain.zip'));
    const eocd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const cdOffset = z.readUInt32LE(eocd + 16);
    const cd = z.subarray(cdOffset, eocd);
    const end = Buffer.from(z.subarray(eocd));
    end.writeUInt16LE(end.readUInt16LE(8) * 2, 8);
    end.writeUInt16LE(end.readUInt16LE(10) * 2, 10);
    end.writeUInt32LE(cd.length * 2, 12);
    const doubled = Buffer.concat([z.subarray(0, cdOffset), cd, cd, end]);
    const { result, members } = walk(new Uint8Array(doubled), 'overlap.zip');
    expect(same(members.get(`overlap.zip!/${SO}`), libz)).toBe(true);
    expect(hasWarning(result, /overlaps another member's \(overlapping-entry zip bomb\?\); skipped/)).toBe(true);
  });

  it('asar whose header lies about offsets and sizes', () => {
    const asar = buildAsar(
      [
        { path: 'ok.txt', data: text },
        { path: 'far.so', data: libz },
      ],
      (h) => {
        const files = h.files as Record<string, Record<string, unknown>>;
        (files['far.so'] as Record<string, unknown>).offset = String(10_000_000);
        files['big.so'] = { size: 4_000_000_000, offset: '0' };
        files['neg.so'] = { size: -5, offset: '0' };
        files['..'] = { size: 1, offset: '0' };
      },
    );
    const { result, members } = walk(asar, 'app.asar');
    expect(same(members.get('app.asar!/ok.txt'), text)).toBe(true);
    expect(members.size).toBe(1);
    expect(hasWarning(result, /^app\.asar: "far\.so": header says 121280 bytes at offset 10000000, past the \d+ data bytes \(the header lies\); skipped/)).toBe(true);
    expect(hasWarning(result, /^app\.asar: "big\.so": header says 4000000000 bytes at offset 0/)).toBe(true);
    expect(hasWarning(result, /^app\.asar: "neg\.so": offset "0" or size -5 is not valid/)).toBe(true);
    expect(hasWarning(result, /^app\.asar: "\.\.": invalid entry name/)).toBe(true);
    const garbled = Buffer.from(asar);
    garbled[17] = 0x23; // '{#': the pickle frames it, the JSON does not parse
    expect(hasWarning(walk(new Uint8Array(garbled), 'g.asar').result, /^g\.asar: asar JSON header does not parse .*; not read/)).toBe(true);
    const pastEnd = Buffer.from(asar);
    pastEnd.writeUInt32LE(pastEnd.length, 4); // header size past the end: not an asar at all
    expect(walk(new Uint8Array(pastEnd), 'p.asar').result.format).toBeNull();
  });

  it('tar with a negative or garbage size', () => {
    const t = file('plain.tar');
    const neg = Uint8Array.from(t);
    neg.fill(0xff, 124, 136);
    fixTarChecksum(neg, 0);
    const r1 = walk(neg, 'neg.tar').result;
    expect(hasWarning(r1, /^neg\.tar: ".*": negative size field; stopped/)).toBe(true);
    const junk = Uint8Array.from(t);
    junk.set(Buffer.from('zz9zz9zz9zz\0'), 124);
    fixTarChecksum(junk, 0);
    const r2 = walk(junk, 'junk.tar').result;
    expect(r2.format).toBe('tar');
    expect(hasWarning(r2, /^junk\.tar: ".*": size field is not a number; stopped/)).toBe(true);
    const huge = Uint8Array.from(t);
    huge.set(Buffer.from('77777777777\0'), 124);
    fixTarChecksum(huge, 0);
    expect(hasWarning(walk(huge, 'huge.tar').result, /claims 8589934591 bytes, only \d+ remain/)).toBe(true);
  });

  it('tar path traversal names', () => {
    writeFileSync(join(dir, 'evil.txt'), TEXT);
    writeFileSync(join(dir, 'abs.txt'), TEXT);
    sh(`tar -cPf trav.tar ../${dir.split('/').pop()}/evil.txt ${join(dir, 'abs.txt')} 2>/dev/null`);
    const { result, members } = walk(file('trav.tar'), 'trav.tar');
    expect(hasWarning(result, /^trav\.tar: "\.\.\/.*evil\.txt": member name climbs out with \.\. \(path traversal\); read as /)).toBe(true);
    expect(hasWarning(result, /^trav\.tar: "\/.*abs\.txt": member name is absolute \(path traversal\)/)).toBe(true);
    for (const k of members.keys()) expect(k).not.toMatch(/\.\.|!\/\//);
  });

  it('many corrupt members: the walk stops after maxFailedDecompressions', async () => {
    sh('rm -rf many && mkdir many && for i in $(seq 1 200); do seq 1 $((i * 40)) > many/f$i.txt; done && zip -qr many.zip many');
    const z = Buffer.from(file('many.zip'));
    for (const e of centralEntries(z)) {
      if (z.readUInt16LE(e.cd + 10) !== 8) continue;
      z[e.local + 30 + z.readUInt16LE(e.local + 26) + z.readUInt16LE(e.local + 28)] = 0xff; // reserved block type
    }
    await new Promise((r) => setImmediate(r));
    const before = process.memoryUsage().arrayBuffers;
    const { result, members } = walk(new Uint8Array(z), 'many.zip');
    const held = process.memoryUsage().arrayBuffers - before;
    expect(members.size).toBe(0);
    expect(result.warnings.filter((w) => /invalid block type/.test(w)).length).toBe(DEFAULT_ARCHIVE_LIMITS.maxFailedDecompressions);
    expect(hasWarning(result, /^many\.zip: 64 decompressions failed on corrupt data; the walk stops here/)).toBe(true);
    expect(held).toBeLessThan(16 * 1024 * 1024);
  });

  it('a highly compressible gzip that is no tar is no bomb: nothing to say', () => {
    sh('head -c 33554432 /dev/zero | gzip -9 > zeros.gz');
    const { result, members } = walk(file('zeros.gz'), 'zeros.gz');
    expect(result.format).toBe('gzip');
    expect(members.size).toBe(0);
    expect(result.warnings).toEqual([]);
  });

  it('gzip layer bomb', () => {
    sh('head -c 67108864 /dev/zero > z64 && tar -cf - z64 | gzip -9 > zbomb.tar.gz && rm z64');
    const { result, members } = walk(file('zbomb.tar.gz'), 'zbomb.tar.gz');
    expect(members.size).toBe(0);
    expect(hasWarning(result, /^zbomb\.tar\.gz: gzip layer decompresses past \d+ bytes, over 100:1 \(a bomb\); not opened/)).toBe(true);
  });
});

/** mulberry32: a small deterministic PRNG, so every run mutates the same way. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(rnd() * n);
  let b = Uint8Array.from(src);
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const at = int(b.length);
    switch (int(7)) {
      case 0: // flip bits
        b[at] = (b[at] ?? 0) ^ (1 << int(8));
        break;
      case 1: // random bytes
        for (let i = 0; i < 1 + int(8); i++) b[at + i] = int(256);
        break;
      case 2: // an interesting 32-bit value
        if (at + 4 <= b.length) Buffer.from(b.buffer, b.byteOffset, b.length).writeUInt32LE(INTERESTING[int(INTERESTING.length)] ?? 0, at);
        break;
      case 3: // an interesting 16-bit value
        if (at + 2 <= b.length) Buffer.from(b.buffer, b.byteOffset, b.length).writeUInt16LE((INTERESTING[int(INTERESTING.length)] ?? 0) & 0xffff, at);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: {
        // delete a range
        const n = int(Math.min(4096, b.length - at) + 1);
        b = Uint8Array.from(Buffer.concat([b.subarray(0, at), b.subarray(at + n)]));
        break;
      }
      case 6: {
        // duplicate a range elsewhere
        const from = int(b.length);
        const n = int(Math.min(2048, b.length - from) + 1);
        b = Uint8Array.from(Buffer.concat([b.subarray(0, at), b.subarray(from, from + n), b.subarray(at)]));
        break;
      }
    }
    if (b.length === 0) break;
  }
  return b;
}

/** Structure-aware lies: rewrite a known header field of the seed archive. */
function lieInField(src: Uint8Array, rnd: () => number): Uint8Array {
  const b = Buffer.from(src);
  const int = (n: number): number => Math.floor(rnd() * n);
  const value = INTERESTING[int(INTERESTING.length)] ?? 0;
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (b.readUInt32LE(0) === 0x04034b50 && eocd > 0) {
    const entries = centralEntries(b);
    const e = entries[int(entries.length)];
    if (e) {
      const fields = [e.cd + 20, e.cd + 24, e.cd + 42, e.local + 18, e.local + 22, e.cd + 16, eocd + 12, eocd + 16];
      const f = fields[int(fields.length)] ?? 0;
      if (f + 4 <= b.length) b.writeUInt32LE(value >>> 0, f);
      const f16 = [e.cd + 10, e.cd + 28, e.local + 26, e.local + 28, eocd + 10][int(5)] ?? 0;
      if (rnd() < 0.5 && f16 + 2 <= b.length) b.writeUInt16LE(value & 0xffff, f16);
    }
  } else if (b.length >= 512) {
    const blocks = Math.floor(b.length / 512);
    const at = int(blocks) * 512;
    const fields: [number, number][] = [[124, 12], [0, 100], [156, 1], [345, 155]];
    const [off, len] = fields[int(fields.length)] ?? [124, 12];
    for (let i = 0; i < len; i++) b[at + off + i] = int(256);
    if (rnd() < 0.8) fixTarChecksum(b, at);
  }
  return new Uint8Array(b);
}

describe('fuzz: deterministic mutations of real archives', () => {
  it('several thousand mutations: no exception, bounded time, bytes and memory', async () => {
    const asar = buildAsar([
      { path: 'a/libz.so.1', data: libz },
      { path: 'b.txt', data: text },
    ]);
    const seeds: [string, Uint8Array][] = [
      ['plain.zip', file('plain.zip')],
      ['piped.zip', file('piped.zip')],
      ['lib.jar', file('lib.jar')],
      ['plain.tar', file('plain.tar')],
      ['v7.tar', file('v7.tar')],
      ['plain.tar.gz', file('plain.tar.gz')],
      ['plain.tar.zst', file('plain.tar.zst')],
      ['nested.tar.gz', file('nested.tar.gz')],
      ['inner.zip', file('inner.zip')],
      ['app.asar', asar],
    ];
    const limits: Partial<ArchiveLimits> = { maxTotalBytes: 32 * 1024 * 1024, maxMemberBytes: 8 * 1024 * 1024 };
    const rnd = prng(0x5eed);
    const N = 5000;
    let slowest = 0;
    let warned = 0;
    let delivered = 0;
    // As in the service, the event loop turns between files: a failed synchronous zlib call
    // keeps its engine until it does (see maxFailedDecompressions).
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
    await tick();
    const baseline = process.memoryUsage().arrayBuffers;
    let peakBuffers = 0;
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      const [name, seed] = seeds[i % seeds.length] ?? seeds[0]!;
      const input = i % 3 === 0 ? lieInField(seed, rnd) : mutate(seed, rnd);
      const t = performance.now();
      let bytes = 0;
      let r: WalkResult;
      const streamed = i % 5 === 0;
      if (streamed) {
        const s = new ArchiveStream(name, { ...limits, maxInMemoryBytes: 32 * 1024 }, (_p, d) => {
          bytes += d.length;
        });
        for (let at = 0; at < input.length; at += 7000) s.push(input.subarray(at, at + 7000));
        r = s.end();
      } else {
        r = walkArchive(input, limits, (_p, d) => {
          bytes += d.length;
        }, name);
      }
      slowest = Math.max(slowest, performance.now() - t);
      if (r.warnings.length > 0) warned++;
      delivered += r.members;
      expect(bytes).toBeLessThanOrEqual(limits.maxTotalBytes ?? 0);
      expect(r.warnings.length).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxWarnings + 1);
      for (const w of r.warnings) expect(w).not.toMatch(/internal error/);
      if (i % 20 === 19) {
        peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers - baseline);
        await tick();
      }
    }
    const total = performance.now() - started;
    console.log(`fuzz: ${N} walks in ${total.toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms, ${warned} with warnings, ${delivered} members, peak extra ArrayBuffer ${(peakBuffers / 1048576).toFixed(1)} MiB`);
    expect(warned).toBeGreaterThan(N / 4);
    expect(delivered).toBeGreaterThan(N / 4);
    expect(slowest).toBeLessThan(2000);
    expect(peakBuffers).toBeLessThan(256 * 1024 * 1024);
  }, 300_000);
});
