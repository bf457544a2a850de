// GET /v1/diff?from=&to=: what changed between two runs (by default the latest completed library
// scan and the one of the same scope before it): copies that appeared, went away, changed version,
// and copies newly or no longer under an advisory.
import type { FastifyPluginAsync } from 'fastify';
import { previousRunOfScope } from '../../../store/diff.ts';
import { diffRuns } from '../../decisions/answers.ts';
import type { ApiDeps } from '../deps.ts';
import { NotFoundError } from '../errors.ts';
import { answerRun, runIdParam } from '../common.ts';
import { diffSchema, errorSchema } from '../decision-schemas.ts';
import { exportFormatParam, sendExport, type ApiExportFormat } from '../export.ts';
import { rowsFromDiff } from '../../output/index.ts';

interface DiffQuery {
  from?: string;
  to?: string;
  vendored: 'true' | 'any';
  includeSuppressed: boolean;
  format: 'json' | ApiExportFormat;
}

export const diffRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: DiffQuery }>(
    '/v1/diff',
    {
      schema: {
        tags: ['advisories'],
        description: 'Copies that appeared, went away or changed version (paired by package name across store-path hashes) between two runs, and copies newly or no longer affected by an advisory.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: runIdParam,
            to: runIdParam,
            vendored: { type: 'string', enum: ['true', 'any'], default: 'any', description: 'true: vendored copies only; any (default): every copy' },
            includeSuppressed: { type: 'boolean', default: false },
            format: exportFormatParam,
          },
        },
        response: { 200: diffSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { runId: to } = await answerRun(deps, { run: req.query.to }, 'to');
      const from = req.query.from !== undefined ? (await answerRun(deps, { run: req.query.from }, 'from')).runId : await previousRunOfScope(deps.db, to);
      if (from === null) throw new NotFoundError(`run ${to} has no earlier completed run of the same scope: give from=`);
      const d = await diffRuns(deps.db, deps.decisions, from, to, { vendoredOnly: req.query.vendored === 'true', includeSuppressed: req.query.includeSuppressed });
      if (req.query.format === 'json') return d;
      const rows = rowsFromDiff(d);
      return sendExport(reply, req.query.format, { coverage: d.to, rows, total: rows.length, title: `changes from run ${from} to run ${to}`, filename: `diff-run${from}-run${to}` });
    },
  );
};
