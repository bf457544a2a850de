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

/** preHandler of the token-protected routes. */
export function tokenGuard(deps: Pick<ApiDeps, 'apiToken'>): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(deps.apiToken ?? '');
    if (!deps.apiToken || given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new UnauthorizedError(deps.apiToken ? 'a valid bearer token is required' : 'writes are disabled: set VENDORSCAN_API_TOKEN on the server');
    }
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
