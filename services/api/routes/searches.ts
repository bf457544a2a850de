// /v1/searches: an emergency search (a YARA rule, a needle or a hex pattern) over a run's paths or
// a path list, at a higher priority than scans (token); its progress and matches so far.
import type { FastifyPluginAsync } from 'fastify';
import { createSearch, searchMatches, searchProgress } from '../../../store/searches.ts';
import { compileRules, RuleCompileError } from '../../../yara/rules.ts';
import { hexRule, needleRule, PatternError } from '../../../yara/rule-source.ts';
import type { ApiDeps } from '../deps.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { answerRun, checkStorePaths, idParams, pathList, runIdParam, tokenGuard } from '../common.ts';

const MAX_RULE_BYTES = 64 * 1024;

interface SearchBody {
  rule?: string;
  needle?: string;
  hex?: string;
  run?: string;
  paths?: string[];
}

export const searchesRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.post<{ Body: SearchBody }>(
    '/v1/searches',
    {
      preHandler: tokenGuard(deps),
      schema: {
        tags: ['searches'],
        description: 'Start an emergency search: exactly one of rule, needle, hex; over a run (default the latest) or paths.',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rule: { type: 'string', minLength: 1, maxLength: MAX_RULE_BYTES },
            needle: { type: 'string', minLength: 1, maxLength: 4096 },
            hex: { type: 'string', minLength: 1, maxLength: 8192 },
            run: runIdParam,
            paths: pathList,
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const given = (['rule', 'needle', 'hex'] as const).filter((k) => body[k] !== undefined);
      const field = given[0];
      if (given.length !== 1 || field === undefined) throw new BadRequestError('body', 'give exactly one of rule, needle and hex');
      const kind = field === 'rule' ? 'yara' : field;
      const pattern = body[field] ?? '';
      try {
        compileRules([kind === 'yara' ? { origin: 'rule', text: pattern } : kind === 'needle' ? needleRule(pattern, 1) : hexRule(pattern, 1)]);
      } catch (err) {
        if (err instanceof RuleCompileError) throw new BadRequestError(field, err.compilerMessage, { line: err.line, column: err.column });
        if (err instanceof PatternError) throw new BadRequestError(field, err.message);
        throw err;
      }
      checkStorePaths(body.paths ?? []);
      const scope = body.paths ? { paths: body.paths } : { runId: (await answerRun(deps, body.run !== undefined ? { run: body.run } : {})).runId };
      const searchId = await createSearch(deps.db, { kind, pattern, scope, cacheUrl: deps.cacheUrl });
      await deps.enqueue([{ kind: 'plan-search', searchId }]);
      reply.code(202);
      return searchProgress(deps.db, searchId);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number; offset: number } }>(
    '/v1/searches/:id',
    {
      schema: {
        tags: ['searches'],
        description: "A search's progress and its matches so far.",
        params: idParams,
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const progress = await searchProgress(deps.db, id);
      if (!progress) throw new NotFoundError(`search ${id} does not exist`);
      return { ...progress, results: await searchMatches(deps.db, id, req.query.limit, req.query.offset) };
    },
  );
};
