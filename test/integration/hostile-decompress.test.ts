// Issue 13, decompression: H4 (a small zstd NAR asking for a 1 GiB window), the xz counterpart,
// and M5 (xz of much more than NarSize: decompression stops the moment output passes NarSize).
// Real zstd, xz and Nix.
import { describe, expect, it } from 'vitest';
import { needleScan } from '../helpers/needle-scan.ts';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decompress } from '../../decompress/decompress.ts';
import { xzFirstDictionary } from '../../decompress/limits.ts';
import { addToStore, makeBinaryCache, narInfoFile } from '../helpers/nix.ts';

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  // Small chunks: the guards must work across chunk boundaries.
  for (let at = 0; at < data.length; at += 7) yield data.subarray(at, at + 7);
}

async function total(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

const sh = (cmd: string): Buffer => execFileSync('sh', ['-c', cmd], { maxBuffer: 1 << 28 });

describe('zstd window limit (H4)', () => {
  const huge = sh('head -c 1000000 /dev/zero | zstd -q --long=30 -c');
  for (const prefer of ['js', 'native'] as const) {
    it(`refuses a ${huge.length}-byte stream asking for a 1 GiB window before decoding (${prefer})`, async () => {
      await expect(total(decompress(once(huge), 'zstd', { prefer }))).rejects.toThrow(/needs a 1073741824-byte window, over the limit of 134217728 bytes/);
    });
  }

  it('decodes it when the limit is raised', async () => {
    expect((await total(decompress(once(huge), 'zstd', { prefer: 'native', maxWindowBytes: 2 ** 31 }))).length).toBe(1_000_000);
  });

  for (const prefer of ['js', 'native'] as const) {
    it(`walks every frame: skippable frames, checksums, several frames, then a frame over the limit (${prefer})`, async () => {
      const a = sh('printf "hello world %.0s" $(seq 1 2000) | zstd -q --check -c');
      const b = sh('head -c 300000 /dev/urandom | zstd -q --no-check -c');
      const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('12345')]);
      const good = Buffer.concat([skippable, a, skippable, b]);
      // In process, node:zlib alone stopped after the first frame and yielded nothing after a
      // skippable one: 0 bytes here, before each frame got a decoder of its own.
      const out = await total(decompress(once(good), 'zstd', { prefer }));
      expect(out.length).toBe(12 * 2000 + 300000);
      expect(out.subarray(0, 12).toString()).toBe('hello world ');
      await expect(total(decompress(once(Buffer.concat([good, huge])), 'zstd', { prefer }))).rejects.toThrow(/a frame at compressed byte \d+ needs a 1073741824-byte window/);
    });
  }

  it('decodes a multi-frame stream in process whatever the chunking, and names a frame cut short', async () => {
    const a = sh('printf "first frame %.0s" $(seq 1 500) | zstd -q -c');
    const b = sh('printf "second frame %.0s" $(seq 1 500) | zstd -q -c');
    const both = Buffer.concat([a, b]);
    const expected = sh('printf "first frame %.0s" $(seq 1 500); printf "second frame %.0s" $(seq 1 500)');
    for (const size of [1, 3, 7, 64, both.length]) {
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < both.length; i += size) yield both.subarray(i, i + size);
      }
      expect((await total(decompress(chunks(), 'zstd', { prefer: 'js' }))).equals(expected)).toBe(true);
    }
    await expect(total(decompress(once(both.subarray(0, both.length - 5)), 'zstd', { prefer: 'js' }))).rejects.toThrow(/unexpected end of file/);
    await expect(total(decompress(once(Buffer.concat([a, Buffer.from('not a frame')])), 'zstd', { prefer: 'js' }))).rejects.toThrow(/zstd decompression \(js\) failed/);
  });
});

describe('xz dictionary limit', () => {
  it('reads the dictionary size of the first block', () => {
    expect(xzFirstDictionary(sh('echo hi | xz -9 -c'))).toBe(64 * 1024 * 1024);
    expect(xzFirstDictionary(sh('echo hi | xz -1 -c'))).toBe(1024 * 1024);
  });
  it('refuses a stream whose dictionary is over the limit, before decoding', async () => {
    const big = sh('echo hi | xz --lzma2=dict=512MiB -c');
    await expect(total(decompress(once(big), 'xz', { prefer: 'js' }))).rejects.toThrow(/needs a 536870912-byte dictionary, over the limit of 134217728 bytes/);
    expect((await total(decompress(once(sh('echo hi | xz -9 -c')), 'xz', { prefer: 'js' }))).toString()).toBe('hi\n');
  });
});

describe('NarSize stops decompression (M5)', () => {
  it('fails a NAR longer than NarSize as soon as the output passes it', async () => {
    const storePath = addToStore('hostile-narsize-1.0', { 'zeros.bin': Buffer.alloc(64 * 1024 * 1024) });
    const dir = makeBinaryCache([storePath], 'xz');
    const file = narInfoFile(dir, storePath);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^NarSize: \d+$/m, 'NarSize: 1000'));
    const { summary, results } = await needleScan(`file://${dir}`, [storePath], 'needle', { retries: 0 });
    expect(summary.failed).toBe(1);
    expect(results[0]?.reason).toMatch(/NarSize mismatch: narinfo says 1000 bytes, the NAR is longer/);
    // Stopped at the first chunk past 1000 bytes, not after 64 MiB.
    expect(results[0]?.narBytes).toBeLessThan(8 * 1024 * 1024);
    expect(path.basename(storePath)).toMatch(/hostile-narsize/);
  }, 120_000);
});
