// Native engine: the system decompressor (`xz -dc`, `zstd -dc`, `bzip2 -dc`) in a child process.
// stdin is fed from the source with backpressure, stdout is yielded as it comes (the async
// iterator pauses the pipe, so the tool blocks when the consumer is slow), stderr is kept for
// the error message. The child is always reaped before the generator finishes.
//
// When the compressed bytes are an open regular file (a file:// cache), the child gets that file
// as its stdin and reads it itself; `source` (the same bytes, read positionally) is then only
// drained for the hashes and checks it runs on the way. Writing a 297 MB NAR's 81 MB of xz into
// the child's stdin socket cost this process 0.5-0.6 CPU-s and the child ~0.6 more on a slower VM
// (a wake-up per socket buffer on each side); the big-NAR bench took 0.25 CPU-s less for 696 MB
// on a faster one (docs/performance.md).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Compression } from '../nix/compression.ts';
import { DecompressionError } from './decompression-error.ts';
import { feed } from './feed.ts';

const STDERR_LIMIT = 16 * 1024;

export interface Tool {
  readonly command: string;
  readonly args: readonly string[];
  /** How errors name it, when the command line is not what a user would recognise (a wrapper such as prlimit). */
  readonly label?: string;
  /** The tool's own first line of complaint, said in our words where it is cryptic. */
  readonly explain?: (said: string) => string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}

export async function* decompressWithTool(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  tool: Tool,
  /** The compressed bytes as an open regular file positioned at their start: the child's stdin. */
  inputFd?: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  const child = spawn(tool.command, [...tool.args], { stdio: [inputFd ?? 'pipe', 'pipe', 'pipe'] });
  // stdio 1 and 2 are 'pipe', so Node made both streams (the types cannot tell with a descriptor at 0).
  const stdout = child.stdout as Readable;
  const stderrStream = child.stderr as Readable;
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  stderrStream.setEncoding('utf8');
  stderrStream.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
  });
  // EPIPE when the tool exits before reading all input (corrupt data): its exit status tells why.
  child.stdin?.on('error', () => {});
  const feeding = feed(source, child.stdin, () => child.kill('SIGKILL'));
  const name = tool.label ?? `${tool.command} ${tool.args.join(' ')}`;
  let finished = false;
  try {
    for await (const chunk of stdout) yield chunk as Buffer;
    const exit = await exited;
    // A tool that read its stdin itself and failed needs no more of it: draining the rest (an
    // 8 GiB sparse file behind a bad header took 19 s) would only hash what is refused anyway.
    if (inputFd !== undefined && exit.code !== 0) feeding.stop();
    await feeding.done;
    finished = true;
    const sourceError = feeding.sourceError();
    if (sourceError) throw sourceError.error;
    if (exit.spawnError) {
      throw new DecompressionError(compression, 'native', `cannot run ${name}: ${exit.spawnError.message}`, { cause: exit.spawnError });
    }
    if (exit.code !== 0) {
      const status = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
      // The first line says it (bzip2 goes on with advice about bzip2recover).
      const first = stderr.trim().split('\n')[0]?.replace(/;$/, '').trim() ?? '';
      const said = tool.explain ? tool.explain(first) : first;
      throw new DecompressionError(
        compression,
        'native',
        `${name} ${status} after reading ${inputFd === undefined ? feeding.bytesIn() : (readOffset(inputFd) ?? 'some')} compressed bytes${said ? `: ${said}` : ''}`,
      );
    }
  } finally {
    if (!finished) {
      // Consumer stopped early or stdout failed: stop feeding, kill, and wait so no zombie remains.
      feeding.stop();
      child.stdin?.destroy();
      stdout.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      // The drain reads the caller's descriptor, which is closed once this returns: it must be over first.
      if (inputFd !== undefined) await feeding.done;
    }
  }
}

/**
 * How far an open file's offset has moved: what a child given it as stdin has read (the offset
 * belongs to the open file, shared with the child). From /proc/self/fdinfo; null where that
 * cannot be read.
 */
export function readOffset(fd: number): number | null {
  try {
    const pos = /^pos:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
    return pos === undefined ? null : Number(pos);
  } catch {
    return null;
  }
}
