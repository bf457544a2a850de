// The HTTP API: who vendors what (reads, open), and scans and emergency searches (writes, bearer
// token). Requests never name a cache: caches come from server configuration only. One Fastify
// plugin per resource (routes/), one error handler that maps error kinds to statuses.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { httpStatusFor, isVendorscanError, messageOf } from '../../errors/errors.ts';
import type { ApiDeps } from './deps.ts';
import { BadRequestError } from './errors.ts';
import { redactUrls } from '../config.ts';
import { readGuard } from './common.ts';
import { documentOnly, TAGS } from './openapi.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { vendorsRoutes } from './routes/vendors.ts';
import { librariesRoutes } from './routes/libraries.ts';
import { scansRoutes } from './routes/scans.ts';
import { searchesRoutes } from './routes/searches.ts';
import { CONTENT_SECURITY_POLICY, dashboardRoutes } from '../../dashboard/plugin.ts';
import { advisoriesRoutes } from './routes/advisories.ts';
import { diffRoutes } from './routes/diff.ts';

export type { ApiDeps } from './deps.ts';

interface ValidationFailure {
  validation?: { instancePath?: string; params?: { missingProperty?: string; allowedValues?: unknown[] } }[];
  validationContext?: string;
  statusCode?: number;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function checkQuery(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  for (const [name, raw] of Object.entries(query as Record<string, unknown>)) {
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value !== 'string') continue;
      if (value.includes('\0')) throw new BadRequestError(name, `${name} contains a NUL byte`);
      if (NUMERIC.test(value.trim()) && !Number.isSafeInteger(Math.trunc(Number(value)))) {
        throw new BadRequestError(name, `${name} is out of range: ${value.slice(0, 40)} (at most ${Number.MAX_SAFE_INTEGER})`);
      }
    }
  }
}

/** Text columns cannot hold NUL: a body string with one is a 400 naming its field (a needle of bytes is a hex pattern). */
function checkBody(body: unknown, where = ''): void {
  if (typeof body === 'string') {
    if (body.includes('\0')) throw new BadRequestError(where || 'body', `${where || 'body'} contains a NUL byte${where === 'needle' ? ' (search for bytes with hex)' : ''}`);
  } else if (Array.isArray(body)) {
    for (const [i, v] of body.entries()) checkBody(v, `${where}[${i}]`);
  }
  else if (typeof body === 'object' && body !== null) for (const [k, v] of Object.entries(body)) checkBody(v, where ? `${where}.${k}` : k);
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });
  documentOnly(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'vendorscan', version: '0.1.0', description: 'Vendored copies of risky libraries in a Nix binary cache. The dashboard for people is at /.' },
      tags: TAGS,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the VENDORSCAN_API_TOKEN of the server' } } },
    },
  });
  // The service runs offline: Swagger UI must not ask validator.swagger.io about the document,
  // and its pages get the dashboard's policy (this origin only; Swagger UI sets inline styles).
  const docsPolicy = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: docsPolicy, uiConfig: { validatorUrl: null } });
  app.addSchema({
    $id: 'Health',
    type: 'object',
    properties: {
      ok: { type: 'boolean' },
      database: { type: 'string' },
      signatures: { type: 'string', description: 'ruleset digest' },
      cache: { type: 'object', properties: { url: { type: 'string' }, reachable: { type: 'boolean' }, error: { type: ['string', 'null'] } } },
    },
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequestError) return reply.code(400).send({ error: 'bad request', code: err.code, parameter: err.parameter, message: err.message, ...err.details });
    if (isVendorscanError(err)) return reply.code(httpStatusFor(err)).send({ error: err.message, code: err.code });
    const e = err as ValidationFailure;
    if (e.validation) {
      const v = e.validation[0];
      const parameter = v?.params?.missingProperty ?? v?.instancePath?.replace(/^\//, '') ?? e.validationContext ?? 'request';
      const allowed = v?.params?.allowedValues ? ` (${v.params.allowedValues.join(', ')})` : '';
      return reply.code(400).send({ error: 'bad request', code: 'VS_API_BAD_PARAMETER', parameter, message: `${messageOf(err)}${allowed}` });
    }
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: messageOf(err) });
    return reply.code(500).send({ error: 'internal error', message: messageOf(err) });
  });

  app.addHook('onRequest', readGuard(deps));
  // Before any schema: a NUL byte or a number no column can hold is a 400 naming the parameter,
  // never PostgreSQL's text in a 500.
  app.addHook('preValidation', async (req) => {
    checkQuery(req.query);
    checkBody(req.body);
  });
  // A cache URL with credentials (run and search rows, failure reasons) is never shown whole.
  app.addHook('onSend', async (_req, _reply, payload) => (typeof payload === 'string' ? redactUrls(payload) : payload));

  for (const routes of [healthRoutes, metricsRoutes, vendorsRoutes, librariesRoutes, scansRoutes, searchesRoutes, advisoriesRoutes, diffRoutes]) await app.register(routes, deps);
  // The pages for people (/, /libraries/…, /runs, …): after the API, whose answers they show.
  await app.register(dashboardRoutes(app), deps);
  return app;
}
