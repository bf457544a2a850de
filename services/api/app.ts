// The HTTP API: who vendors what (reads, open), and scans and emergency searches (writes, bearer
// token). Requests never name a cache: caches come from server configuration only.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { timingSafeEqual } from 'node:crypto';
import type { Database } from '../../store/database.ts';
import { addRunPaths, createRun, latestCompletedRun, listRuns, runProgress, setRunTotal, runFailures } from '../../store/runs.ts';
import { createSearch, searchMatches, searchProgress } from '../../store/searches.ts';
import { isKnownLibrary, libraries, vendors, type UnknownMode } from '../../store/queries.ts';
import { parseVersionRange } from '../../signatures/version.ts';
import type { SignatureSet } from '../../signatures/loader.ts';
import { compileRules, RuleCompileError } from '../../yara/rules.ts';
import { hexRule, needleRule, PatternError } from '../../yara/rule-source.ts';
import type { ScanJob } from '../../workers/queue/scan-queue.ts';
import { parseStorePath } from '../../nix/store-path.ts';
import { metricsText, type QueueCounts } from './metrics.ts';

export interface ApiDeps {
  db: Database;
  signatures: SignatureSet;
  cacheUrl: string;
  apiToken: string | null;
  enqueue(jobs: ScanJob[]): Promise<void>;
  queueCounts?(): Promise<QueueCounts>;
}

const MAX_RULE_BYTES = 64 * 1024;

class BadRequest extends Error {
  readonly parameter: string;
  readonly details: Record<string, unknown>;
  constructor(
    parameter: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.parameter = parameter;
    this.details = details;
  }
}

function checkStorePaths(paths: string[]): void {
  for (const p of paths) {
    try {
      parseStorePath(p);
    } catch (err) {
      throw new BadRequest('paths', (err as Error).message);
    }
  }
}

const pathList = { type: 'array', minItems: 1, maxItems: 100_000, items: { type: 'string', maxLength: 300 } } as const;

const runIdParam = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });
  await app.register(swagger, {
    openapi: { info: { title: 'vendorscan', version: '0.1.0', description: 'Vendored copies of risky libraries in a Nix binary cache' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ error: 'bad request', parameter: err.parameter, message: err.message, ...err.details });
    const e = err as { validation?: { instancePath?: string; params?: { missingProperty?: string } }[]; validationContext?: string; statusCode?: number; message: string };
    if (e.validation) {
      const v = e.validation[0];
      const parameter = v?.params?.missingProperty ?? v?.instancePath?.replace(/^\//, '') ?? e.validationContext ?? 'request';
      return reply.code(400).send({ error: 'bad request', parameter, message: e.message });
    }
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
    return reply.code(500).send({ error: 'internal error', message: e.message });
  });

  // Libraries the loaded signatures look for: known even before a run found any copy.
  const signatureLibraries = new Set([...deps.signatures.rules.values()].map((m) => m.library));

  const requireToken = async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(deps.apiToken ?? '');
    if (!deps.apiToken || given.length !== want.length || !timingSafeEqual(given, want)) {
      const err = new Error(deps.apiToken ? 'a valid bearer token is required' : 'writes are disabled: set VENDORSCAN_API_TOKEN on the server') as Error & { statusCode: number };
      err.statusCode = 401;
      throw err;
    }
  };

  const resolveRun = async (run: string | undefined): Promise<number> => {
    if (run !== undefined) {
      const id = Number(run);
      if (!(await runProgress(deps.db, id))) throw new BadRequest('run', `run ${run} does not exist`);
      return id;
    }
    const latest = await latestCompletedRun(deps.db);
    if (latest === null) throw Object.assign(new Error('no completed run yet'), { statusCode: 404 });
    return latest;
  };

  app.get('/healthz', async () => {
    await deps.db.query('SELECT 1');
    return { ok: true, database: deps.db.kind, signatures: deps.signatures.digest };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return metricsText(deps.db, deps.queueCounts ? await deps.queueCounts() : null);
  });

  app.get(
    '/v1/vendors',
    {
      schema: {
        description: 'Store paths that carry a copy of a library, from the latest completed run (or run=ID).',
        querystring: {
          type: 'object',
          required: ['library'],
          additionalProperties: false,
          properties: {
            library: { type: 'string', minLength: 1, maxLength: 64 },
            version: { type: 'string', maxLength: 200, description: "a range: '<1.3.2', '>=1.6.0 <1.6.43'" },
            run: runIdParam,
            vendored: { type: 'string', enum: ['true', 'false', 'any'], default: 'true' },
            unknown: { type: 'string', enum: ['include', 'exclude', 'only'], default: 'include' },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (req) => {
      const q = req.query as { library: string; version?: string; run?: string; vendored: string; unknown: UnknownMode; limit: number; offset: number };
      if (!signatureLibraries.has(q.library) && !(await isKnownLibrary(deps.db, q.library))) throw new BadRequest('library', `unknown library "${q.library}"`);
      let range = null;
      if (q.version !== undefined) {
        try {
          range = parseVersionRange(q.version);
        } catch (err) {
          throw new BadRequest('version', (err as Error).message);
        }
      }
      const runId = await resolveRun(q.run);
      const result = await vendors(deps.db, { runId, library: q.library, range, vendored: q.vendored === 'any' ? null : q.vendored === 'true', unknown: q.unknown, limit: q.limit, offset: q.offset });
      return { run: runId, library: q.library, version: q.version ?? null, total: result.total, limit: q.limit, offset: q.offset, results: result.rows };
    },
  );

  app.get('/v1/libraries', { schema: { querystring: { type: 'object', additionalProperties: false, properties: { run: runIdParam } } } }, async (req) => {
    const runId = await resolveRun((req.query as { run?: string }).run);
    return { run: runId, libraries: await libraries(deps.db, runId) };
  });

  app.post(
    '/v1/scans',
    {
      preHandler: requireToken,
      schema: {
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
      const body = req.body as { channel?: string; paths?: string[] };
      if ((body.channel === undefined) === (body.paths === undefined)) throw new BadRequest('body', 'give exactly one of channel and paths');
      checkStorePaths(body.paths ?? []);
      const source = body.channel ? { kind: 'channel' as const, channel: body.channel, label: `channel ${body.channel}` } : { kind: 'paths' as const, label: `${body.paths?.length} paths` };
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

  app.get('/v1/scans', async () => ({ scans: await listRuns(deps.db) }));

  app.get('/v1/scans/:id', { schema: { params: { type: 'object', properties: { id: runIdParam } } } }, async (req) => {
    const id = Number((req.params as { id: string }).id);
    const progress = await runProgress(deps.db, id);
    if (!progress) throw Object.assign(new Error(`run ${id} does not exist`), { statusCode: 404 });
    return { ...progress, failures: await runFailures(deps.db, id, 100) };
  });

  app.post(
    '/v1/searches',
    {
      preHandler: requireToken,
      schema: {
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
      const body = req.body as { rule?: string; needle?: string; hex?: string; run?: string; paths?: string[] };
      const given = (['rule', 'needle', 'hex'] as const).filter((k) => body[k] !== undefined);
      if (given.length !== 1) throw new BadRequest('body', 'give exactly one of rule, needle and hex');
      const kind = given[0] === 'rule' ? 'yara' : given[0]!;
      const pattern = body[given[0]!]!;
      try {
        compileRules([kind === 'yara' ? { origin: 'rule', text: pattern } : kind === 'needle' ? needleRule(pattern, 1) : hexRule(pattern, 1)]);
      } catch (err) {
        if (err instanceof RuleCompileError) throw new BadRequest(given[0]!, err.compilerMessage, { line: err.line, column: err.column });
        if (err instanceof PatternError) throw new BadRequest(given[0]!, err.message);
        throw err;
      }
      checkStorePaths(body.paths ?? []);
      const scope = body.paths ? { paths: body.paths } : { runId: await resolveRun(body.run) };
      const searchId = await createSearch(deps.db, { kind, pattern, scope, cacheUrl: deps.cacheUrl });
      await deps.enqueue([{ kind: 'plan-search', searchId }]);
      reply.code(202);
      return searchProgress(deps.db, searchId);
    },
  );

  app.get(
    '/v1/searches/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: runIdParam } },
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      },
    },
    async (req) => {
      const id = Number((req.params as { id: string }).id);
      const { limit, offset } = req.query as { limit: number; offset: number };
      const progress = await searchProgress(deps.db, id);
      if (!progress) throw Object.assign(new Error(`search ${id} does not exist`), { statusCode: 404 });
      return { ...progress, results: await searchMatches(deps.db, id, limit, offset) };
    },
  );

  return app;
}
