// Command-line flags: node:util's parseArgs with our errors. A bad flag is a UsageError (exit 2)
// naming the flag; numbers are checked here once for every command.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

export function parseFlags<O extends ParseArgsOptionsConfig>(argv: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** A whole number flag ≥ `min` (default 1), or `fallback` when absent. */
export function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

/** What every command is given: its streams and environment (tests pass their own). */
export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  // Its one-line summary lives in main.ts's table, which lists commands without loading them.
  usage: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}

/** Resolves on SIGINT or SIGTERM: long-running commands then close what they opened. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * Waits for SIGINT or SIGTERM, then runs `close`. If it has not finished within `graceMs` (a scan
 * stuck in a runaway rule, a job that will not end), or a second signal comes, the process exits
 * at once: jobs in flight are idempotent and are taken over after a restart or by another worker.
 */
export async function closeOnSignal(io: CommandIO, what: string, graceMs: number, close: () => Promise<void>): Promise<void> {
  const signal = await untilSignal();
  io.stderr.write(`vendorscan ${what}: ${signal}, stopping (at most ${Math.ceil(graceMs / 1000)} s; send it again to stop now)\n`);
  const now = (why: string): void => {
    io.stderr.write(`vendorscan ${what}: ${why}: stopping now; jobs in flight will be retried\n`);
    process.exit(1);
  };
  const timer = setTimeout(() => now('the grace period is over'), graceMs);
  const again = (): void => now('second signal');
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  try {
    await close();
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
}
