// Pieces several route plugins share: the bearer-token check, run resolution, schemas of ids and
// path lists, and store-path validation with the API's 400.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parseStorePath } from '../../nix/store-path.ts';
import { answeringRun, RunNotAnswerableError, type RunCoverage } from '../../store/coverage.ts';
import type { ApiDeps } from './deps.ts';
import { BadRequestError, NotFoundError, UnauthorizedError } from './errors.ts';

export const runIdParam = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;
export const pathList = { type: 'array', minItems: 1, maxItems: 100_000, items: { type: 'string', maxLength: 300 } } as const;
export const idParams = { type: 'object', required: ['id'], properties: { id: runIdParam } } as const;

function bearerMatches(req: FastifyRequest, token: string | null | undefined): boolean {
  if (!token) return false;
  // Only `Bearer <token>`: a bare token (or any other scheme) is refused.
  const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
  const given = Buffer.from(bearer?.[1] ?? '');
  const want = Buffer.from(token);
  return bearer !== null && given.length === want.length && timingSafeEqual(given, want);
}

/** Whether the request carries the write token (search patterns are shown only then). */
export function hasWriteToken(req: FastifyRequest, deps: Pick<ApiDeps, 'apiToken'>): boolean {
  return bearerMatches(req, deps.apiToken);
}

/** onRequest hook of the token-protected routes: runs before the body is read or validated. */
export function tokenGuard(deps: Pick<ApiDeps, 'apiToken'>): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    if (!bearerMatches(req, deps.apiToken)) {
      throw new UnauthorizedError(deps.apiToken ? 'a valid bearer token is required' : 'writes are disabled: set VENDORSCAN_API_TOKEN on the server');
    }
  };
}

/** onRequest hook of the reads when VENDORSCAN_READ_TOKEN is set: the read or the write token. */
export function readGuard(deps: Pick<ApiDeps, 'apiToken' | 'readToken'>): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    if (!deps.readToken || req.method !== 'GET' || !req.url.startsWith('/v1/')) return;
    if (!bearerMatches(req, deps.readToken) && !bearerMatches(req, deps.apiToken)) throw new UnauthorizedError('reads need a bearer token (VENDORSCAN_READ_TOKEN is set on the server)');
  };
}

/**
 * The run a read answers from, with its coverage: the one named (a completed or running library
 * scan; 400 otherwise), else the latest completed library scan of the channel asked for, else of
 * any scope (404 when there is none: never an empty answer). `parameter` names the run in a 400.
 */
export async function answerRun(deps: Pick<ApiDeps, 'db'>, ask: { run?: string; channel?: string }, parameter = 'run'): Promise<RunCoverage> {
  let coverage: RunCoverage | null;
  try {
    coverage = await answeringRun(deps.db, { ...(ask.run !== undefined ? { runId: Number(ask.run) } : {}), ...(ask.channel !== undefined ? { channel: ask.channel } : {}) });
  } catch (err) {
    if (err instanceof RunNotAnswerableError) throw new BadRequestError(parameter, err.message);
    throw err;
  }
  if (!coverage) throw new NotFoundError(ask.channel !== undefined ? `no completed library scan of channel ${ask.channel} yet` : 'no completed library scan yet');
  return coverage;
}

export const channelParam = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'answer from the latest completed library scan of this channel' } as const;

export function checkStorePaths(paths: string[]): void {
  for (const p of paths) {
    try {
      parseStorePath(p);
    } catch (err) {
      throw new BadRequestError('paths', (err as Error).message);
    }
  }
}
