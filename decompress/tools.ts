// Which system decompressors exist, and which engine each codec uses by default.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Tool } from './child-process.ts';

export type NativeCodec = 'xz' | 'zstd' | 'bzip2';

export const TOOLS: Record<NativeCodec, Tool> = {
  xz: { command: 'xz', args: ['-dc'] },
  zstd: { command: 'zstd', args: ['-dc'] },
  bzip2: { command: 'bzip2', args: ['-dc'] },
};

const found = new Map<string, boolean>();

/** Whether `command` is an executable file in a $PATH directory (cached per process). */
export function onPath(command: string): boolean {
  const known = found.get(command);
  if (known !== undefined) return known;
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== '');
  const exists = dirs.some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  found.set(command, exists);
  return exists;
}
