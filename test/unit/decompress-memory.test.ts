// Memory must not grow with NAR size: 384 MB of output through every engine, with the rss
// growth checked, and a slow consumer must hold back how much of the source is read.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decompress, type Compression } from '../../decompress/decompress.ts';

const OUTPUT_BYTES = 384 * 1024 * 1024;
const TOOLS: Record<'xz' | 'zstd' | 'bzip2', string[]> = { xz: ['xz', '-1', '-T1', '-c'], zstd: ['zstd', '-1', '-q', '-c'], bzip2: ['bzip2', '-1', '-c'] };

const PIECE_BYTES = 32 * 1024 * 1024;

/**
 * 384 MB of a text-like pattern: 32 MB compressed by the real tool, the compressed stream
 * repeated 12 times (concatenated streams/frames are valid in all three formats), which keeps
 * the setup fast.
 */
function compressedPattern(c: keyof typeof TOOLS): Buffer {
  const [tool, ...args] = TOOLS[c];
  const piece = execFileSync('sh', ['-c', `yes 'vendorscan streams NARs of any size' | head -c ${PIECE_BYTES} | ${tool} ${args.join(' ')}`], { maxBuffer: 1 << 28 });
  return Buffer.concat(Array.from({ length: OUTPUT_BYTES / PIECE_BYTES }, () => piece));
}

async function* chunks(data: Uint8Array, size: number, counter?: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) {
    const chunk = data.subarray(at, at + size);
    if (counter) counter.bytes += chunk.length;
    yield chunk;
  }
}

describe('memory stays flat while decompressing hundreds of MB', () => {
  for (const c of ['xz', 'zstd', 'bzip2'] as const) {
    const input = compressedPattern(c);
    for (const prefer of ['native', 'js'] as const) {
      it(`${c} (${prefer}): ${OUTPUT_BYTES >> 20} MB out`, async () => {
        global.gc?.();
        const before = process.memoryUsage().rss;
        let peak = before;
        let total = 0;
        let n = 0;
        for await (const chunk of decompress(chunks(input, 64 * 1024), c as Compression, { prefer })) {
          total += chunk.length;
          if (++n % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        }
        expect(total).toBe(OUTPUT_BYTES);
        // Generous for GC slack, far below the 384 MB that buffering the output would take.
        expect(peak - before).toBeLessThan(96 * 1024 * 1024);
      });
    }
  }
});

describe('backpressure: a paused consumer stops the source being read', () => {
  // Incompressible input, so compressed size ≈ output size and buffering would show.
  const random = randomBytes(16 * 1024 * 1024);
  for (const c of ['xz', 'zstd'] as const) {
    const input = execFileSync(TOOLS[c][0] ?? c, c === 'xz' ? ['-0', '-T1', '-c'] : ['-1', '-q', '-c'], { input: random, maxBuffer: 1 << 26 });
    for (const prefer of ['native', 'js'] as const) {
      it(`${c} (${prefer})`, async () => {
        const read = { bytes: 0 };
        const iterator = decompress(chunks(input, 64 * 1024, read), c as Compression, { prefer })[Symbol.asyncIterator]();
        expect((await iterator.next()).done).toBe(false);
        await new Promise((r) => setTimeout(r, 300));
        const readWhilePaused = read.bytes;
        await iterator.return?.();
        // Pipes and decoder buffers hold a few MB at most; the input is 16 MB.
        expect(readWhilePaused).toBeLessThan(4 * 1024 * 1024);
        expect(input.length).toBeGreaterThan(16 * 1024 * 1024);
      });
    }
  }
});
