// unbzip2-stream ships no types. We drive its block decoder directly (see bzip2-js.ts).
declare module 'unbzip2-stream/lib/bzip2.js' {
  interface Bzip2 {
    /** Reads "BZh<level>"; returns the block size in 100 kB units. */
    header(bits: BitReader): number;
    /** Decodes one block (or the end-of-stream marker, returning null), calling `out` per byte. */
    decompress(bits: BitReader, out: (byte: number) => void, buf: Int32Array, bufsize: number, streamCRC: number): number | null;
  }
  type BitReader = ((n: number | null) => number) & { bytesRead: number };
  const bzip2: Bzip2;
  export default bzip2;
}
declare module 'unbzip2-stream/lib/bit_iterator.js' {
  import type { BitReader } from 'unbzip2-stream/lib/bzip2.js';
  export default function bitIterator(nextBuffer: () => Uint8Array | undefined): BitReader;
}
