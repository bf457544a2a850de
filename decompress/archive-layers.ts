// The decoders the archive walker (archive/, a layer below this one) is given for the tar.xz and
// tar.bz2 layers node:zlib cannot read: the same xz-embedded WebAssembly and unbzip2-stream block
// decoder the NAR path uses, run synchronously over a member held whole, stopping at the walker's
// output cap. The xz dictionary limit is the NAR limit (VENDORSCAN_MAX_WINDOW).
import type { LayerDecoders } from '../archive/index.ts';
import { decodeBzip2Bounded } from './bzip2-js.ts';
import { DEFAULT_MAX_WINDOW_BYTES } from './limits.ts';
import { decodeXzBounded } from './xz-wasm.ts';

export function archiveLayerDecoders(maxWindowBytes = DEFAULT_MAX_WINDOW_BYTES): LayerDecoders {
  return {
    xz: (input, maxOutput) => decodeXzBounded(input, maxOutput, maxWindowBytes),
    bzip2: decodeBzip2Bounded,
  };
}
