// The in-process queue gives emergency searches a lane of their own: a search job starts while
// scan jobs hold every slot (a big NAR can hold one for minutes), and scans still respect theirs.
import { describe, expect, it } from 'vitest';
import { LocalQueue } from '../../workers/queue/local-queue.ts';
import type { ScanJob } from '../../workers/queue/scan-queue.ts';

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('LocalQueue', () => {
  it('starts a search while scan jobs fill every slot, and holds further scans back', async () => {
    const release = gate();
    const started: string[] = [];
    const searchRan = gate();
    const queue = new LocalQueue(
      async (job: ScanJob) => {
        started.push(job.kind);
        if (job.kind === 'search-path') searchRan.open();
        else await release.promise;
      },
      { concurrency: 2 },
    );
    await queue.add([
      { kind: 'run-paths', runId: 1, storePaths: ['a'] },
      { kind: 'run-paths', runId: 1, storePaths: ['b'] },
      { kind: 'run-paths', runId: 1, storePaths: ['c'] },
    ]);
    expect(started).toEqual(['run-paths', 'run-paths']); // the third waits for a scan slot
    await queue.add([{ kind: 'search-path', searchId: 1, storePath: '/nix/store/x' }]);
    await searchRan.promise; // would hang (test timeout) if the search waited for the scans
    expect(started).toEqual(['run-paths', 'run-paths', 'search-path']);
    release.open();
    await queue.idle();
    expect(started.filter((k) => k === 'run-paths')).toHaveLength(3);
  });
});
