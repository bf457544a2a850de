// GET /metrics: Prometheus text from the store's counters and the queue's depths.
import type { FastifyPluginAsync } from 'fastify';
import { storeMetrics } from '../../../store/metrics.ts';
import type { ApiDeps } from '../deps.ts';
import { metricsText } from '../metrics.ts';

export const metricsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/metrics', { schema: { tags: ['service'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return metricsText(await storeMetrics(deps.db), deps.queueCounts ? await deps.queueCounts() : null);
  });
};
