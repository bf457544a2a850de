// Native engine: the system decompressor (`xz -dc`, `zstd -dc`, `bzip2 -dc`) in a child process.
// stdin is fed from the source with backpressure, stdout is yielded as it comes (the async
// iterator pauses the pipe, so the tool blocks when the consumer is slow), stderr is kept for
// the error message. The child is always reaped before the generator finishes.
import { spawn } from 'node:child_process';
import type { Compression } from '../nix/compression.ts';
import { DecompressionError } from './decompression-error.ts';
import { feed } from './feed.ts';

const STDERR_LIMIT = 16 * 1024;

export interface Tool {
  readonly command: string;
  readonly args: readonly string[];
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
): AsyncGenerator<Uint8Array, void, undefined> {
  const child = spawn(tool.command, [...tool.args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
  });
  // EPIPE when the tool exits before reading all input (corrupt data): its exit status tells why.
  child.stdin.on('error', () => {});
  const feeding = feed(source, child.stdin, () => child.kill('SIGKILL'));
  const name = `${tool.command} ${tool.args.join(' ')}`;
  let finished = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const exit = await exited;
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
      const said = stderr.trim().split('\n')[0]?.replace(/;$/, '') ?? '';
      throw new DecompressionError(
        compression,
        'native',
        `${name} ${status} after reading ${feeding.bytesIn()} compressed bytes${said ? `: ${said}` : ''}`,
      );
    }
  } finally {
    if (!finished) {
      // Consumer stopped early or stdout failed: stop feeding, kill, and wait so no zombie remains.
      feeding.stop();
      child.stdin.destroy();
      child.stdout.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }
}
