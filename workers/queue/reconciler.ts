// Repairs lost queue state. Redis restarted without persistence (or replaced) forgets every job,
// while the store still says which paths of which runs and searches are pending: nothing would
// ever pick them up again. The reconciler watches the queue; when it has been idle (nothing
// waiting, active or delayed) for two checks in a row while work is pending in the store, the jobs
// were lost, and it enqueues them again under fresh job ids. Everything a job does is idempotent,
// so a job enqueued twice costs time, never correctness.
import type { Database } from '../../store/database.ts';
import { findLostWork } from '../../store/lost-work.ts';
import { runBatches } from './job-processor.ts';
import type { ScanJob } from './scan-queue.ts';

export interface ReconcilerOptions {
  db: Database;
  /** Jobs the queue holds (waiting + active + delayed). */
  queued(): Promise<number>;
  enqueue(jobs: ScanJob[]): Promise<void>;
  intervalMs: number;
  /** Told how many jobs were enqueued again, for the log. */
  onRepair?(jobs: number): void;
}

export interface Reconciler {
  /** One check now (tests; the timer calls it too). Returns the jobs it enqueued. */
  check(): Promise<number>;
  stop(): void;
}

export function startReconciler(options: ReconcilerOptions): Reconciler {
  let idleChecks = 0;
  let running = false;
  const check = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    try {
      if ((await options.queued()) > 0) {
        idleChecks = 0;
        return 0;
      }
      if (++idleChecks < 2) return 0;
      const lost = await findLostWork(options.db);
      const epoch = `r${Date.now().toString(36)}`;
      const jobs: ScanJob[] = [
        ...lost.plans.map((runId): ScanJob => ({ kind: 'plan-run', runId, epoch })),
        ...lost.runPaths.flatMap(({ runId, paths }) => runBatches(paths).map((storePaths): ScanJob => ({ kind: 'run-paths', runId, storePaths, epoch }))),
        ...lost.searchPaths.flatMap(({ searchId, paths }) => paths.map((storePath): ScanJob => ({ kind: 'search-path', searchId, storePath, epoch }))),
      ];
      if (jobs.length === 0) return 0;
      await options.enqueue(jobs);
      idleChecks = 0;
      options.onRepair?.(jobs.length);
      return jobs.length;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => {
    check().catch(() => undefined); // the store or the queue is down: the next check tries again
  }, options.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
