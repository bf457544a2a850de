// The queue without Redis: the same jobs, priorities and retries, in this process. One machine,
// no servers; what a BullMQ worker fleet does, at the scale of one host.
import { PRIORITY, type ScanJob } from './scan-queue.ts';
import { PermanentJobError } from './job-processor.ts';

interface Queued {
  job: ScanJob;
  priority: number;
  attempts: number;
  seq: number;
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
  /** Called once a job has failed for good. */
  private readonly onGiveUp: (job: ScanJob, error: unknown, attempts: number) => Promise<void>;
  constructor(
    handler: (job: ScanJob) => Promise<void>,
    concurrency: number,
    maxAttempts = 3,
    onGiveUp: (job: ScanJob, error: unknown, attempts: number) => Promise<void> = async () => {},
  ) {
    this.handler = handler;
    this.concurrency = concurrency;
    this.maxAttempts = maxAttempts;
    this.onGiveUp = onGiveUp;
  }

  async add(jobs: ScanJob[]): Promise<void> {
    for (const job of jobs) {
      const priority = job.kind.includes('search') ? PRIORITY.search : job.kind.startsWith('plan') ? PRIORITY.plan : PRIORITY.scan;
      this.waiting.push({ job, priority, attempts: 0, seq: this.seq++ });
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
            await new Promise((r) => setTimeout(r, 500 * 2 ** next.attempts));
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
