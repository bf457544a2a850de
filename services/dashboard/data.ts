// Where the dashboard's numbers come from: the store functions the API uses (imported, no SQL
// here), and the advisory and diff answers of the API's own routes, asked in-process so that the
// page and the JSON can never disagree. A route this build lacks is reported as such, never
// replaced by a made-up number.
import type { FastifyInstance } from 'fastify';
import { advisoriesFor, type Advisory } from '../../advisories/loader.ts';
import { compareVersions, parseVersion } from '../../signatures/version.ts';
import type { VendorRow } from '../../store/queries.ts';

/** A copy row as the contract spells it; the fields a build does not fill yet are optional. */
export interface CopyRow extends Omit<VendorRow, 'rule'> {
  linkage?: string;
  advisories?: string[];
  attribute?: string | null;
  maintainers?: string[];
  homepage?: string | null;
  position?: string | null;
  links?: { search: string | null; hydra: string | null };
}

export interface AdvisorySummary {
  id: string;
  aliases?: string[];
  summary?: string | null;
  published?: string | null;
  modified?: string;
  libraries?: string[];
  affected: number;
  cannotTell: number;
}

/** An answer from an API route: the body, an error the route gave, or "this build has no such route". */
export type Answer<T> = { kind: 'ok'; body: T } | { kind: 'error'; status: number; message: string } | { kind: 'absent' };

export async function askApi<T>(app: FastifyInstance, route: string, url: string): Promise<Answer<T>> {
  if (!app.hasRoute({ method: 'GET', url: route })) return { kind: 'absent' };
  const r = await app.inject({ method: 'GET', url });
  let body: unknown;
  try {
    body = r.json();
  } catch {
    body = null;
  }
  if (r.statusCode === 200) return { kind: 'ok', body: body as T };
  const b = (body ?? {}) as { message?: string; error?: string };
  return { kind: 'error', status: r.statusCode, message: b.message ?? b.error ?? `HTTP ${r.statusCode}` };
}

/** Orders version strings as the version module does; throws on one it cannot read (the loader then says "cannot tell"). */
function compareVersionText(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new Error(`unreadable version: ${x ? b : a}`);
  return compareVersions(x, y);
}

/** The advisories whose range holds this library version (none for an unknown version: that is "cannot tell"). */
export function advisoriesOf(advisories: readonly Advisory[], library: string, version: string | null): { affected: string[]; cannotTell: string[] } {
  const r = advisoriesFor(library, version, advisories, compareVersionText);
  return { affected: r.affected.map((a) => a.id), cannotTell: r.cannotTell.map((a) => a.id) };
}

/** A text rendering of an API answer (`?format=markdown`); absent when the route does not give one. */
export async function askApiText(app: FastifyInstance, route: string, url: string): Promise<Answer<string>> {
  if (!app.hasRoute({ method: 'GET', url: route })) return { kind: 'absent' };
  const r = await app.inject({ method: 'GET', url });
  const type = String(r.headers['content-type'] ?? '');
  if (r.statusCode === 200 && !type.startsWith('application/json')) return { kind: 'ok', body: r.body };
  if (r.statusCode === 200 || r.statusCode === 400) return { kind: 'absent' };
  return { kind: 'error', status: r.statusCode, message: r.body.slice(0, 500) };
}
