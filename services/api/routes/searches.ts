// /v1/searches: an emergency search (a YARA rule, a needle or a hex pattern) over a run's paths or
// a path list, at a higher priority than scans (token); its progress and matches so far.
import type { FastifyPluginAsync } from 'fastify';
import { createSearch, searchMatches, searchProgress } from '../../../store/searches.ts';
import { cancelSearch, searchProblems, setSearchDeadline } from '../../../store/search-control.ts';
import { RuleCompileError, type SlowRuleWarning } from '../../../yara/rules.ts';
import { checkRules, SlowRuleError } from '../../../yara/rule-check.ts';
import { hexRule, needleRule, PatternError } from '../../../yara/rule-source.ts';
import type { ApiDeps } from '../deps.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { reopenInterruptedSearch } from '../../../store/interrupted.ts';
import { answerRun, checkStorePaths, hasWriteToken, idParams, pathList, runIdParam, tokenGuard } from '../common.ts';

const MAX_RULE_BYTES = 64 * 1024;

interface SearchBody {
  rule?: string;
  needle?: string;
  hex?: string;
  run?: string;
  paths?: string[];
  force?: boolean;
}

const DEFAULT_SEARCH_BUDGET_MS = 6 * 3600 * 1000;

export const searchesRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.post<{ Body: SearchBody }>(
    '/v1/searches',
    {
      onRequest: tokenGuard(deps),
      schema: {
        tags: ['searches'],
        description:
          'Start an emergency search: exactly one of rule, needle, hex; over a run (default the latest) or paths. A rule may not use include. A rule YARA-X flags as slow is refused (400 with its warnings) unless force is true; every file is matched under a time limit either way.',
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
            force: { type: 'boolean', default: false },
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
      let warnings: SlowRuleWarning[];
      try {
        // Off this thread and with a time limit: a rule is untrusted input.
        warnings = await checkRules([kind === 'yara' ? { origin: 'rule', text: pattern } : kind === 'needle' ? needleRule(pattern, 1) : hexRule(pattern, 1)], { force: body.force === true });
      } catch (err) {
        if (err instanceof SlowRuleError) throw new BadRequestError(field, err.compilerMessage, { line: err.line, column: err.column, warnings: err.warnings, hint: 'send "force": true to run it anyway' });
        if (err instanceof RuleCompileError) throw new BadRequestError(field, err.compilerMessage, { line: err.line, column: err.column });
        if (err instanceof PatternError) throw new BadRequestError(field, err.message);
        throw err;
      }
      checkStorePaths(body.paths ?? []);
      const scope = body.paths ? { paths: body.paths } : { runId: (await answerRun(deps, body.run !== undefined ? { run: body.run } : {})).runId };
      const searchId = await createSearch(deps.db, { kind, pattern, scope, cacheUrl: deps.cacheUrl });
      await setSearchDeadline(deps.db, searchId, deps.searchBudgetMs ?? DEFAULT_SEARCH_BUDGET_MS);
      await deps.enqueue([{ kind: 'plan-search', searchId }]);
      reply.code(202);
      return { ...(await searchProgress(deps.db, searchId)), warnings };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/searches/:id',
    {
      onRequest: tokenGuard(deps),
      schema: { tags: ['searches'], description: 'Cancel a search: its pending paths are not scanned (token).', security: [{ bearer: [] }], params: idParams },
    },
    async (req) => {
      const id = Number(req.params.id);
      const before = await cancelSearch(deps.db, id);
      if (before === null) throw new NotFoundError(`search ${id} does not exist`);
      const progress = await searchProgress(deps.db, id);
      if (progress && (before === 'queued' || before === 'running')) await deps.dropSearch?.(id, progress.cacheUrl);
      return { ...progress, cancelled: before === 'queued' || before === 'running' || before === 'interrupted' };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/searches/:id/resume',
    {
      onRequest: tokenGuard(deps),
      schema: {
        tags: ['searches'],
        description: 'Resume an interrupted search (its process died): its settled paths and matches are kept, the rest are searched (token). 400 when it is not interrupted.',
        security: [{ bearer: [] }],
        params: idParams,
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      if (!(await searchProgress(deps.db, id))) throw new NotFoundError(`search ${id} does not exist`);
      await reopenInterruptedSearch(deps.db, id);
      await setSearchDeadline(deps.db, id, deps.searchBudgetMs ?? DEFAULT_SEARCH_BUDGET_MS);
      await deps.enqueue([{ kind: 'plan-search', searchId: id, epoch: `resume-${Date.now()}` }]);
      reply.code(202);
      return searchProgress(deps.db, id);
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
      // A pattern can say what is being hunted before a fix is out: only writers see it.
      const pattern = hasWriteToken(req, deps) ? progress.pattern : null;
      return { ...progress, pattern, ...(await searchProblems(deps.db, id)), results: await searchMatches(deps.db, id, req.query.limit, req.query.offset) };
    },
  );
};
