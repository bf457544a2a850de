// Store path lists: one path per line, blank lines and '#' comments ignored. Streamed line by line
// so a channel's hundreds of thousands of paths never sit in memory twice.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

export async function* linesOf(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const rl = createInterface({ input: Readable.from(source), crlfDelay: Infinity });
  for await (const line of rl) {
    const path = line.trim();
    if (path !== '' && !path.startsWith('#')) yield path;
  }
}

/** `-` reads standard input. */
export function readPathList(file: string): AsyncGenerator<string> {
  return linesOf(file === '-' ? process.stdin : createReadStream(file));
}
