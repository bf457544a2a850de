// The semaphore that bounds requests per cache and scans per worker: never more holders than its
// limit, waiters served in order, urgent ones (emergency searches) first.
import { describe, expect, it } from 'vitest';
import { Limiter } from '../../cache/limiter.ts';

describe('Limiter', () => {
  it('holds at most its limit and serves urgent waiters before the others, each group in order', async () => {
    const limiter = new Limiter(1);
    const order: string[] = [];
    const first = await limiter.acquire();
    const waiters = [
      ['scan-1', false],
      ['scan-2', false],
      ['search-1', true],
      ['search-2', true],
      ['scan-3', false],
    ].map(([name, urgent]) =>
      limiter.acquire(urgent as boolean).then((release) => {
        order.push(name as string);
        release();
      }),
    );
    first();
    first(); // a second release of the same hold changes nothing
    await Promise.all(waiters);
    expect(order).toEqual(['search-1', 'search-2', 'scan-1', 'scan-2', 'scan-3']);
  });

  it('never lets more than `limit` run at once', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const release = await limiter.acquire(i % 4 === 0);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        release();
      }),
    );
    expect(peak).toBe(3);
  });
});
