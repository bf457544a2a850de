// GET /healthz: the store answers and which signatures this process runs.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.ts';

export const healthRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/healthz', { schema: { tags: ['service'], summary: 'health' } }, async () => {
    await deps.db.query('SELECT 1');
    return { ok: true, database: deps.db.kind, signatures: deps.signatures.digest };
  });
};
