// The embedded store is single-writer by construction: PGlite keeps no lock of its own, and two
// processes on one data dir corrupt it silently. The first to open it writes its pid into a lock
// file beside the data; a second process fails at once naming that pid. A lock left by a process
// that died (kill -9) is taken over, and the opener is told so (its runs were interrupted).
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { VendorscanError } from '../errors/errors.ts';

export class DataDirBusyError extends VendorscanError {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super('VS_DATA_DIR_BUSY', 'unavailable', `data dir ${dataDir} in use by pid ${pid}: the embedded store takes one process at a time (stop it, or use DATABASE_URL for several)`);
    this.pid = pid;
  }
}

export interface DataDirLock {
  /** True when the lock was left by a process that died: what it was running was interrupted. */
  readonly tookOverStale: boolean;
  release(): void;
}

const held = new Map<string, { count: number }>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes `${dataDir}.lock`; throws DataDirBusyError when a live process holds it. Re-entrant within a process. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = `${dataDir}.lock`;
  const mine = held.get(file);
  if (mine) {
    mine.count++;
    return { tookOverStale: false, release: () => releaseLock(file) };
  }
  // Written to a private name first, then linked into place: link fails if the lock exists, so
  // two processes starting together cannot both win.
  const temp = `${file}.${process.pid}`;
  const fd = openSync(temp, 'w');
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  let tookOverStale = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, file);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST' || attempt > 3) throw err;
        const owner = readPid(file);
        if (owner !== null && owner !== process.pid && alive(owner)) throw new DataDirBusyError(dataDir, owner);
        // Stale (its process died) or unreadable: remove it and try again.
        tookOverStale = true;
        try {
          unlinkSync(file);
        } catch {}
      }
    }
  } finally {
    unlinkSync(temp);
  }
  held.set(file, { count: 1 });
  return { tookOverStale, release: () => releaseLock(file) };
}

function releaseLock(file: string): void {
  const mine = held.get(file);
  if (!mine) return;
  if (--mine.count > 0) return;
  held.delete(file);
  if (readPid(file) === process.pid) {
    try {
      unlinkSync(file);
    } catch {}
  }
}

// A process that exits without closing its store still leaves no lock behind.
process.once('exit', () => {
  for (const file of held.keys()) {
    if (readPid(file) === process.pid) {
      try {
        unlinkSync(file);
      } catch {}
    }
  }
});
