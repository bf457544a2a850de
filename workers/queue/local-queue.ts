// The queue without Redis: the same jobs, priorities and retries, in this process. One machine,
// no servers; what a BullMQ worker fleet does, at the scale of one host.
import { JOB_BACKOFF, jobPriority, PRIORITY, type ScanJob } from './scan-queue.ts';
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
  /** Search jobs running: they have a lane of their own (see pump). */
  private runningUrgent = 0;
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

  /**
   * Starts waiting jobs while there is room. Emergency searches have a lane of `concurrency` jobs
   * of their own: a search must not wait for scan jobs that hold every slot for minutes (a NAR of
   * hundreds of MB), so its first match comes within a second of its submission.
   */
  private pump(): void {
    for (;;) {
      const urgentRoom = this.runningUrgent < this.concurrency;
      const otherRoom = this.running - this.runningUrgent < this.concurrency;
      const index = this.waiting.findIndex((q) => (q.priority <= PRIORITY.search ? urgentRoom : otherRoom));
      if (index < 0) return;
      const [next] = this.waiting.splice(index, 1);
      if (!next) return;
      const urgent = next.priority <= PRIORITY.search;
      this.running++;
      if (urgent) this.runningUrgent++;
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
          if (urgent) this.runningUrgent--;
          this.pump();
          if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
