// Engine for decoders that are Node transform streams (node:zlib gunzip / brotli).
import type { Transform } from 'node:stream';
import type { Compression } from '../nix/compression.ts';
import { DecompressionError, type Engine } from './decompression-error.ts';
import { feed } from './feed.ts';

export async function* decompressWithTransform(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  engine: Engine,
  transform: Transform,
): AsyncGenerator<Uint8Array, void, undefined> {
  const feeding = feed(source, transform, (error) => transform.destroy(error instanceof Error ? error : new Error(String(error))));
  try {
    for await (const chunk of transform) yield chunk as Buffer;
  } catch (error) {
    const sourceError = feeding.sourceError();
    if (sourceError) throw sourceError.error;
    const message = error instanceof Error ? error.message : String(error);
    throw new DecompressionError(compression, engine, `${message} (after ${feeding.bytesIn()} compressed bytes)`, { cause: error });
  } finally {
    feeding.stop();
    transform.destroy();
  }
  // zlib ends cleanly after an error only if the source failed after the stream was complete.
  await feeding.done;
  const late = feeding.sourceError();
  if (late) throw late.error;
}
