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
  /** One line for `vendorscan --help`. */
  summary: string;
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
