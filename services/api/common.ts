// Pieces several route plugins share: the bearer-token check, run resolution, schemas of ids and
// path lists, and store-path validation with the API's 400.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parseStorePath } from '../../nix/store-path.ts';
import { latestCompletedRun, runProgress } from '../../store/runs.ts';
import type { ApiDeps } from './deps.ts';
import { BadRequestError, NotFoundError, UnauthorizedError } from './errors.ts';

export const runIdParam = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;
export const pathList = { type: 'array', minItems: 1, maxItems: 100_000, items: { type: 'string', maxLength: 300 } } as const;
export const idParams = { type: 'object', required: ['id'], properties: { id: runIdParam } } as const;

/** preHandler of the token-protected routes. */
export function tokenGuard(deps: Pick<ApiDeps, 'apiToken'>): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    // Only `Bearer <token>`: a bare token (or any other scheme) is refused.
    const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(bearer?.[1] ?? '');
    const want = Buffer.from(deps.apiToken ?? '');
    if (!deps.apiToken || !bearer || given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new UnauthorizedError(deps.apiToken ? 'a valid bearer token is required' : 'writes are disabled: set VENDORSCAN_API_TOKEN on the server');
    }
  };
}

/** The run a read names (400 if it does not exist), else the latest completed one (404 if none). */
export async function resolveRun(deps: Pick<ApiDeps, 'db'>, run: string | undefined): Promise<number> {
  if (run !== undefined) {
    const id = Number(run);
    if (!(await runProgress(deps.db, id))) throw new BadRequestError('run', `run ${run} does not exist`);
    return id;
  }
  const latest = await latestCompletedRun(deps.db);
  if (latest === null) throw new NotFoundError('no completed run yet');
  return latest;
}

export function checkStorePaths(paths: string[]): void {
  for (const p of paths) {
    try {
      parseStorePath(p);
    } catch (err) {
      throw new BadRequestError('paths', (err as Error).message);
    }
  }
}
