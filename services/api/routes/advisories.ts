// GET /v1/advisories and GET /v1/advisories/:id/affected: which advisories a run's copies fall
// under, and every copy one advisory covers (through the library's version or the bundling
// product's), with the copies whose version is unknown apart. Triage comes from configuration.
import type { FastifyPluginAsync } from 'fastify';
import { advisoryList, affectedBy } from '../../decisions/answers.ts';
import type { ApiDeps } from '../deps.ts';
import { answerRun, channelParam, runIdParam } from '../common.ts';
import { advisoryListSchema, affectedSchema, errorSchema } from '../decision-schemas.ts';
import { exportFormatParam, sendExport, type ApiExportFormat } from '../export.ts';

interface AnswerQuery {
  run?: string;
  channel?: string;
  vendored: 'true' | 'any';
  includeSuppressed: boolean;
}

const answerProperties = {
  run: runIdParam,
  channel: channelParam,
  vendored: { type: 'string', enum: ['true', 'any'], default: 'true', description: 'true: vendored copies only; any: the libraries\' own packages too' },
  includeSuppressed: { type: 'boolean', default: false, description: 'also the copies the configured triage file hides' },
} as const;

export const advisoriesRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: AnswerQuery }>(
    '/v1/advisories',
    {
      schema: {
        tags: ['advisories'],
        description: 'Every loaded advisory with how many copies of the run fall under it and how many cannot be decided.',
        querystring: { type: 'object', additionalProperties: false, properties: answerProperties },
        response: { 200: advisoryListSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const { runId } = await answerRun(deps, req.query);
      return advisoryList(deps.db, deps.decisions, runId, { vendoredOnly: req.query.vendored === 'true', includeSuppressed: req.query.includeSuppressed });
    },
  );

  app.get<{ Params: { id: string }; Querystring: AnswerQuery & { limit: number; offset: number; format: 'json' | ApiExportFormat } }>(
    '/v1/advisories/:id/affected',
    {
      schema: {
        tags: ['advisories'],
        description: 'Every copy the advisory covers in the run (affected), and the copies of its libraries whose version is unknown or unreadable (cannotTell). id may be an alias (GHSA).',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...answerProperties, limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 }, offset: { type: 'integer', minimum: 0, default: 0 }, format: exportFormatParam },
        },
        response: { 200: affectedSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { runId } = await answerRun(deps, req.query);
      const q = req.query;
      const a = await affectedBy(deps.db, deps.decisions, runId, req.params.id, { vendoredOnly: q.vendored === 'true', includeSuppressed: q.includeSuppressed, limit: q.limit, offset: q.offset });
      if (q.format === 'json') return a;
      // Affected first, then the copies whose version cannot tell (their advisories do not list this one).
      const title = `${a.advisory.id}: ${a.totalAffected} affected, then ${a.totalCannotTell} whose version cannot tell`;
      const rows = [...a.affected, ...a.cannotTell];
      return sendExport(reply, q.format, { coverage: a.run, rows, total: a.totalAffected + a.totalCannotTell, title, filename: `${a.advisory.id}-affected-run${runId}` });
    },
  );
};
