// Where the dashboard's numbers come from besides the store functions: the decisions the API
// answers with (services/decisions: advisories, affected copies, diffs, called directly, so the
// page and the JSON can never disagree), the per-version verdict, and the API's text renderings
// (?format=markdown), asked in-process. A rendering this build lacks is said to be missing, never
// replaced by a made-up one.
import type { FastifyInstance } from 'fastify';
import type { Advisory } from '../advisories/loader.ts';
import { evaluateCopies } from '../advisories/evaluate.ts';
import type { Copy } from '../services/decisions/copies.ts';

/** A copy as every page lists it: the shared contract's row. */
export type CopyRow = Copy;

/** The advisories whose range holds this library version, judged as the answers judge a copy (none for an unknown version: that is "cannot tell"). */
export function advisoriesOf(advisories: readonly Advisory[], library: string, version: string | null): { affected: string[]; cannotTell: string[] } {
  const v = evaluateCopies([{ storePath: '', file: '', library, version }], advisories)[0];
  return { affected: v?.advisories ?? [], cannotTell: v?.cannotTell ?? [] };
}

/** A text rendering from the API, or why there is none. */
export type TextAnswer = { kind: 'ok'; body: string } | { kind: 'error'; status: number; message: string } | { kind: 'absent' };

/** A text rendering of an API answer (`?format=markdown`); absent when the route does not give one. */
export async function askApiText(app: FastifyInstance, route: string, url: string): Promise<TextAnswer> {
  if (!app.hasRoute({ method: 'GET', url: route })) return { kind: 'absent' };
  const r = await app.inject({ method: 'GET', url });
  const type = String(r.headers['content-type'] ?? '');
  if (r.statusCode === 200 && !type.startsWith('application/json')) return { kind: 'ok', body: r.body };
  if (r.statusCode === 200 || r.statusCode === 400) return { kind: 'absent' };
  return { kind: 'error', status: r.statusCode, message: r.body.slice(0, 500) };
}
