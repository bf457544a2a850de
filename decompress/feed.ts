// Writes an async source into a Node writable with backpressure. Shared by the child-process and
// node:zlib engines, whose decoders are a writable input side plus a readable output side. With
// no writable, the decoder reads the same bytes itself (a child given the file as its stdin): the
// source is only drained, so that what it does on the way (hashes, front checks) still runs.
import type { Writable } from 'node:stream';

export interface Feeding {
  /** Settles when the source is exhausted (input ended) or feeding stopped; never rejects. */
  readonly done: Promise<void>;
  /** Set when the source itself threw: that error is the one to report, not the decoder's. */
  readonly sourceError: () => { error: unknown } | undefined;
  /** Compressed bytes handed to the decoder so far (for error messages). */
  readonly bytesIn: () => number;
  /** Stop pulling from the source at the next chunk (the source's return() then runs). */
  stop(): void;
}

function writableGone(w: Writable): boolean {
  return w.destroyed || w.writableEnded;
}

/** Resolves on 'drain', or when the writable can no longer drain (closed / errored). */
function drained(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

export function feed(source: AsyncIterable<Uint8Array>, input: Writable | null, onSourceError: (error: unknown) => void): Feeding {
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let bytes = 0;
  const done = (async () => {
    try {
      for await (const chunk of source) {
        if (stopped || (input !== null && writableGone(input))) break;
        if (chunk.byteLength === 0) continue;
        bytes += chunk.byteLength;
        if (input !== null && !input.write(chunk)) await drained(input);
      }
      if (input !== null && !stopped && !writableGone(input)) input.end();
    } catch (error) {
      failure = { error };
      if (!stopped) onSourceError(error);
    }
  })();
  return {
    done,
    sourceError: () => failure,
    bytesIn: () => bytes,
    stop: () => {
      stopped = true;
    },
  };
}
