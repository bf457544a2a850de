// The queue without Redis: the same jobs, priorities and retries, in this process. One machine,
// no servers; what a BullMQ worker fleet does, at the scale of one host.
import { JOB_BACKOFF, jobPriority, type ScanJob } from './scan-queue.ts';
import { backoffDelay } from '../../cache/retry.ts';
import { PermanentJobError } from './job-processor.ts';

interface Queued {
  job: ScanJob;
  priority: number;
  attempts: number;
  seq: number;
}

export interface LocalQueueOptions {
  /** Jobs running at once. */
  concurrency: number;
  /** Attempts before a job fails for good (default 3). */
  maxAttempts?: number;
  /** First wait between attempts, doubled each time, with jitter (default 1 s). */
  backoffBaseMs?: number;
  onGiveUp?: (job: ScanJob, error: unknown, attempts: number) => Promise<void>;
}

export class LocalQueue {
  private readonly waiting: Queued[] = [];
  private running = 0;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  readonly failures: { job: ScanJob; error: string }[] = [];

  private readonly handler: (job: ScanJob) => Promise<void>;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  /** Called once a job has failed for good. */
  private readonly onGiveUp: (job: ScanJob, error: unknown, attempts: number) => Promise<void>;
  constructor(handler: (job: ScanJob) => Promise<void>, options: LocalQueueOptions) {
    this.handler = handler;
    this.concurrency = options.concurrency;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.onGiveUp = options.onGiveUp ?? (async () => {});
  }

  async add(jobs: ScanJob[]): Promise<void> {
    for (const job of jobs) {
      this.waiting.push({ job, priority: jobPriority(job), attempts: 0, seq: this.seq++ });
    }
    this.waiting.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.pump();
  }

  get size(): number {
    return this.waiting.length + this.running;
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running++;
      void this.handler(next.job)
        .catch(async (err: unknown) => {
          next.attempts++;
          if (!(err instanceof PermanentJobError) && next.attempts < this.maxAttempts) {
            await new Promise((r) => setTimeout(r, backoffDelay(next.attempts - 1, this.backoffBaseMs, JOB_BACKOFF.maxDelayMs)));
            this.waiting.unshift(next);
          } else {
            this.failures.push({ job: next.job, error: err instanceof Error ? err.message : String(err) });
            await this.onGiveUp(next.job, err, next.attempts).catch(() => undefined);
          }
        })
        .finally(() => {
          this.running--;
          this.pump();
          if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
