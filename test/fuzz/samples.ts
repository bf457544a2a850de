// Real samples the fuzzer mutates, made by the real tools once per run: a narinfo and a NAR of a
// store path with a file, a symlink and a directory (nix-store --dump of a tree built here), the
// same compressed by zstd and xz, an ar archive made by ar(1), and this machine's ELF objects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FuzzSamples {
  narinfos: Uint8Array[];
  cacheInfos: Uint8Array[];
  nars: Uint8Array[];
  zstd: Uint8Array[];
  xz: Uint8Array[];
  ars: Uint8Array[];
  elfs: Uint8Array[];
  archives: Uint8Array[];
}

const NARINFO = `StorePath: /nix/store/0yz74dk9z0g5qdxsr1p11vgpvsd64yyr-libwebp-1.2.4
URL: nar/1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3w4x5y6z.nar.xz
Compression: xz
FileHash: sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s
FileSize: 41232
NarHash: sha256:0ljbm0i9rw3chkfqgbipz9p1q4k48yl2a8w1p1r3nbf6z2i7k8h3
NarSize: 132456
References: 0yz74dk9z0g5qdxsr1p11vgpvsd64yyr-libwebp-1.2.4 xyl4ff5gk2bwibsgdwh1gpf1kpqhgn9l-glibc-2.37
Deriver: phy5k4x9x1269b4f30667s1zqj5c20gm-libwebp-1.2.4.drv
Sig: cache.nixos.org-1:abcd
`;

function tryExec(cmd: string, args: string[], input?: Uint8Array): Buffer | null {
  try {
    return execFileSync(cmd, args, { input, maxBuffer: 1 << 26, env: { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' }, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

export function fuzzSamples(): FuzzSamples {
  const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-fuzz-'));
  const tree = path.join(dir, 'tree');
  mkdirSync(path.join(tree, 'lib'), { recursive: true });
  writeFileSync(path.join(tree, 'lib', 'a.txt'), 'libpng version 1.6.39\n'.repeat(20));
  writeFileSync(path.join(tree, 'z'), Buffer.alloc(300, 7));
  symlinkSync('lib/a.txt', path.join(tree, 'link'));
  const nar = tryExec('nix-store', ['--dump', tree]) ?? Buffer.from('');
  const nars = [nar, tryExec('nix-store', ['--dump', path.join(tree, 'z')]) ?? Buffer.from('')].filter((b) => b.length > 0);
  const zstd = nars.flatMap((n) => [tryExec('zstd', ['-q', '-c', '--check'], n), tryExec('zstd', ['-q', '-c', '-19'], n)]).filter((b): b is Buffer => b !== null);
  const xz = nars.flatMap((n) => [tryExec('xz', ['-c', '-T1'], n), tryExec('xz', ['-c', '-1', '--check=crc32'], n)]).filter((b): b is Buffer => b !== null);
  const o1 = path.join(dir, 'a.o');
  writeFileSync(o1, readFileSync('/bin/true'));
  const ar = tryExec('sh', ['-c', `cd ${dir} && cp a.o b.o && ar rcs lib.a a.o b.o >/dev/null 2>&1 && cat lib.a`]);
  const elfs = ['/bin/true', '/usr/lib/x86_64-linux-gnu/libz.so.1'].flatMap((f) => {
    try {
      return [readFileSync(f).subarray(0, 8 * 1024)];
    } catch {
      return [];
    }
  });
  // zip (python3's zipfile: stored and deflated members, a nested jar), tar, tar.gz, tar.xz and tar.bz2 of the tree.
  const zip = tryExec('python3', ['-c', `import io,zipfile,sys
inner=io.BytesIO()
with zipfile.ZipFile(inner,'w') as z: z.writestr('lib/inner.so', b'libpng version 1.6.39'*10)
out=io.BytesIO()
with zipfile.ZipFile(out,'w') as z:
  z.writestr('a.txt', b'hello '*50, compress_type=zipfile.ZIP_DEFLATED)
  z.writestr('b.bin', bytes(range(256)))
  z.writestr('nested.jar', inner.getvalue())
sys.stdout.buffer.write(out.getvalue())`]);
  const tar = tryExec('tar', ['-C', tree, '-cf', '-', '.']);
  const tgz = tryExec('tar', ['-C', tree, '-czf', '-', '.']);
  const txz = tryExec('tar', ['-C', tree, '-cJf', '-', '.']);
  const tbz = tryExec('tar', ['-C', tree, '-cjf', '-', '.']);
  const archives = [zip, tar?.subarray(0, 16 * 1024) ?? null, tgz, txz, tbz].filter((b): b is Buffer => b !== null);
  const enc = new TextEncoder();
  return {
    narinfos: [enc.encode(NARINFO), enc.encode(NARINFO.replace('Compression: xz', 'Compression: zstd').replace(/^References:.*\n/m, 'References: \n'))],
    cacheInfos: [enc.encode('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n')],
    nars,
    zstd,
    xz,
    ars: ar ? [ar.subarray(0, 16 * 1024)] : [enc.encode('!<arch>\n')],
    elfs,
    archives: archives.length > 0 ? archives : [enc.encode('PK\x03\x04')],
  };
}
