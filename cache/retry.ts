// Exponential backoff with jitter, for errors a later attempt may not see (5xx, 429, resets,
// refusals, timeouts). Never for answers that are final (404, 403, bad data). backoffDelay is
// also what the job queues wait between attempts (in-process and BullMQ alike).
import { AsyncLocalStorage } from 'node:async_hooks';
import { CacheError } from './cache-error.ts';

const counter = new AsyncLocalStorage<{ retries: number }>();

/** Runs `fn`, counting every retry any cache request inside it makes (a store path's fault counter). */
export async function countingRetries<T>(fn: () => Promise<T>): Promise<{ value: T; retries: number }> {
  const count = { retries: 0 };
  const value = await counter.run(count, fn);
  return { value, retries: count.retries };
}

/** Counts one retry in the enclosing countingRetries, if any (also for retries made outside withRetry, such as a NAR body begun again). */
export function countRetry(): void {
  const count = counter.getStore();
  if (count) count.retries++;
}

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The one backoff of the project: the wait before retry `attempt` (0-based), exponential with jitter. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** attempt) * (0.5 + random() / 2);
}

export async function withRetry<T>(policy: RetryPolicy, what: string, attempt: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i <= policy.retries; i++) {
    try {
      return await attempt();
    } catch (err) {
      last = err;
      if (!(err instanceof CacheError) || !err.retryable || i === policy.retries) break;
      countRetry();
      const delay = backoffDelay(i, policy.baseDelayMs, policy.maxDelayMs);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  if (last instanceof CacheError && last.retryable && policy.retries > 0) {
    throw new CacheError(`${last.message} (after ${policy.retries + 1} attempts) fetching ${what}`, last.url, false, last.status);
  }
  throw last;
}
