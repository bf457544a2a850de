// GET /v1/libraries: per library and version, copies, store paths and vendored copies of a run
// (built-against findings are not copies: counted apart, as builtAgainst).
import type { FastifyPluginAsync } from 'fastify';
import { libraries } from '../../../store/queries.ts';
import type { ApiDeps } from '../deps.ts';
import { answerRun, channelParam, runIdParam } from '../common.ts';

export const librariesRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { run?: string; channel?: string } }>(
    '/v1/libraries',
    { schema: { tags: ['answers'], description: 'Per library and version: copies, store paths, vendored copies (built-against findings excluded), and builtAgainst: programs linked to the shared library.', querystring: { type: 'object', additionalProperties: false, properties: { run: runIdParam, channel: channelParam } } } },
    async (req) => {
      const run = await answerRun(deps, req.query);
      return { run, libraries: await libraries(deps.db, run.runId) };
    },
  );
};
