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
  /** Advisories, packages listing and triage file: from configuration, never from a request. */
  decisions: DecisionContext;
  enqueue(jobs: ScanJob[]): Promise<void>;
  queueCounts?(): Promise<QueueCounts>;
}
