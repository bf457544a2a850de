// Issue 13, M3: thirty searches at once used to start a pool of scan threads each (178 threads,
// 3.4 GB). Now every search gets one scan process and at most `threads` of them live at once, so
// the scanners a worker holds stay under 2 × threads however many searches arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../store/database.ts';
import { migrate } from '../../store/migrate.ts';
import { createSearch, searchProgress } from '../../store/searches.ts';
import { loadSignatures } from '../../signatures/loader.ts';
import { JobProcessor, JOBS_PER_SCAN_SLOT } from '../../workers/queue/job-processor.ts';
import { LocalQueue } from '../../workers/queue/local-queue.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let db: Database;
let cacheUrl: string;
let paths: string[];

beforeAll(async () => {
  paths = [0, 1, 2].map((i) => addToStore(`pools-${i}-1.0`, { 'f.txt': `pools ${i} hellomark\n` }));
  cacheUrl = `file://${makeBinaryCache(paths, 'xz')}`;
  db = await openDatabase({ dataDir: path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-pools-')), 'pgdata') });
  await migrate(db);
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe('one ceiling for every search (M3)', () => {
  it('eight searches at once on a 1-thread worker never hold more than 2 scanners', async () => {
    let queue: LocalQueue | null = null;
    const processor = new JobProcessor({ db, signatures: loadSignatures(), threads: 1, cacheOptions: {}, channelsUrl: cacheUrl, enqueue: (jobs) => queue!.add(jobs) });
    queue = new LocalQueue((job) => processor.process(job), { concurrency: processor.scanConcurrency * JOBS_PER_SCAN_SLOT });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 8; i++) {
        const id = await createSearch(db, { kind: 'needle', pattern: `hellomark`.slice(0, 5 + (i % 5)), scope: { paths }, cacheUrl });
        ids.push(id);
      }
      await queue.add(ids.map((searchId) => ({ kind: 'plan-search', searchId })));
      for (const id of ids) {
        const done = await waitFor(`search ${id}`, () => searchProgress(db, id), (s) => s?.state === 'completed');
        expect(done).toMatchObject({ scanned: 3, failed: 0, matches: 3 });
      }
      expect(processor.scannerHighWater).toBeGreaterThan(0);
      expect(processor.scannerHighWater).toBeLessThanOrEqual(2);
    } finally {
      await queue.idle();
      await processor.close(true);
    }
  }, 180_000);
});
