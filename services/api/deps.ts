// What the API's route plugins are given: injected, so tests build the API on any store and queue.
import type { Database } from '../../store/database.ts';
import type { SignatureSet } from '../../signatures/loader.ts';
import type { ScanJob } from '../../workers/queue/scan-queue.ts';
import type { QueueCounts } from './metrics.ts';
import type { DecisionContext } from '../decisions/context.ts';

export interface ApiDeps {
  db: Database;
  signatures: SignatureSet;
  /** The one cache this service scans: from configuration, never from a request. */
  cacheUrl: string;
  apiToken: string | null;
  /** Reads (GET /v1/…) need this token or the write token; null/absent: reads are open. */
  readToken?: string | null;
  /** Advisories, packages listing and triage file: from configuration, never from a request. */
  decisions: DecisionContext;
  enqueue(jobs: ScanJob[]): Promise<void>;
  queueCounts?(): Promise<QueueCounts>;
  /** Stops a cancelled search's scans running in this process. */
  dropSearch?(searchId: number, cacheUrl: string): Promise<void>;
  /** Searches: remaining paths are reported timed out this long after the search started (default 6 h). */
  searchBudgetMs?: number;
}
