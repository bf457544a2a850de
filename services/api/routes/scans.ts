// /v1/scans: start a run of a channel or a path list (token), list runs, one run's progress.
import type { FastifyPluginAsync } from 'fastify';
import { addRunPaths, createRun, listRuns, runFailures, runWarnings, runProgress, setRunTotal, type RunSource } from '../../../store/runs.ts';
import type { ApiDeps } from '../deps.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { checkStorePaths, idParams, pathList, tokenGuard } from '../common.ts';
import { reopenInterruptedRunForService } from '../../../store/interrupted.ts';

export const scansRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.post<{ Body: { channel?: string; paths?: string[] } }>(
    '/v1/scans',
    {
      onRequest: tokenGuard(deps),
      schema: {
        tags: ['scans'],
        description: 'Start a run: a channel or a list of store paths.',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            channel: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' },
            paths: pathList,
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if ((body.channel === undefined) === (body.paths === undefined)) throw new BadRequestError('body', 'give exactly one of channel and paths');
      checkStorePaths(body.paths ?? []);
      const source: RunSource = body.channel ? { kind: 'channel', channel: body.channel, label: `channel ${body.channel}` } : { kind: 'paths', label: `${body.paths?.length} paths` };
      const runId = await createRun(deps.db, { source, cacheUrl: deps.cacheUrl, rulesetDigest: deps.signatures.digest });
      if (body.paths) {
        const { registered } = await addRunPaths(deps.db, runId, body.paths);
        await setRunTotal(deps.db, runId, registered.length);
      }
      await deps.enqueue([{ kind: 'plan-run', runId }]);
      reply.code(202);
      return runProgress(deps.db, runId);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/scans/:id/resume',
    {
      onRequest: tokenGuard(deps),
      schema: {
        tags: ['scans'],
        description: 'Resume an interrupted run (its process died): its settled paths are kept, the rest are scanned (token). 400 when the run is not interrupted.',
        security: [{ bearer: [] }],
        params: idParams,
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      if (!(await runProgress(deps.db, id))) throw new NotFoundError(`run ${id} does not exist`);
      await reopenInterruptedRunForService(deps.db, id, deps.signatures.digest);
      await deps.enqueue([{ kind: 'plan-run', runId: id, epoch: `resume-${Date.now()}` }]);
      reply.code(202);
      return runProgress(deps.db, id);
    },
  );

  app.get('/v1/scans', { schema: { tags: ['scans'], description: 'Runs, newest first.' } }, async () => ({ scans: await listRuns(deps.db) }));

  app.get<{ Params: { id: string } }>('/v1/scans/:id', { schema: { tags: ['scans'], description: "A run's progress, failures, and per-file warnings of scanned paths (archives not wholly read: a bomb, a lying header, a cap).", params: idParams } }, async (req) => {
    const id = Number(req.params.id);
    const progress = await runProgress(deps.db, id);
    if (!progress) throw new NotFoundError(`run ${id} does not exist`);
    return { ...progress, failures: await runFailures(deps.db, id, 100), warnings: await runWarnings(deps.db, id, 100) };
  });
};
