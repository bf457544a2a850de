// GET /healthz: the store answers, the configured cache can be opened, and which signatures this
// process runs. A cache that cannot be opened is reported (503), never hidden: runs started then
// would fail at once with the same reason.
import type { FastifyPluginAsync } from 'fastify';
import { openBinaryCache, redactUrl } from '../../../cache/open.ts';
import type { BinaryCache } from '../../../cache/binary-cache.ts';
import { messageOf } from '../../../errors/errors.ts';
import type { ApiDeps } from '../deps.ts';

/** How long a cache check is reused: /healthz may be polled every few seconds. */
const CACHE_CHECK_MS = 15_000;

export const healthRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  let cache: BinaryCache | null = null;
  let last: { at: number; reachable: boolean; error: string | null } | null = null;
  const checkCache = async (): Promise<{ reachable: boolean; error: string | null }> => {
    if (last && Date.now() - last.at < CACHE_CHECK_MS) return last;
    try {
      cache ??= openBinaryCache(deps.cacheUrl, { timeoutMs: 5000, retries: 0 });
      await cache.cacheInfo();
      last = { at: Date.now(), reachable: true, error: null };
    } catch (err) {
      last = { at: Date.now(), reachable: false, error: messageOf(err) };
    }
    return last;
  };
  app.addHook('onClose', async () => {
    await cache?.close();
  });

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['service'],
        summary: 'health: the results store, the binary cache, the signatures',
        response: {
          200: { $ref: 'Health#' },
          503: { $ref: 'Health#' },
        },
      },
    },
    async (_req, reply) => {
      await deps.db.query('SELECT 1');
      const c = await checkCache();
      if (!c.reachable) reply.code(503);
      return { ok: c.reachable, database: deps.db.kind, signatures: deps.signatures.digest, cache: { url: redactUrl(deps.cacheUrl), reachable: c.reachable, error: c.error } };
    },
  );
};
