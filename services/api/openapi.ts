// The OpenAPI document at /docs, made complete in one place: every route's responses with their
// schemas (202 for the POSTs that start work; the 400, 401 and 404 bodies), routes grouped by tag,
// and the bearer scheme on the token-protected routes so Swagger's Authorize button applies.
// An onRoute hook fills in what a route plugin did not say, so route files stay about behaviour.
// The schemas document; they do not serialize: responses are plain JSON.stringify (see
// documentOnly), so a field a route adds is never silently dropped or coerced. The dashboard's
// end-to-end test checks real responses against these schemas.
import type { FastifyInstance, RouteOptions } from 'fastify';

type Schema = Record<string, unknown>;

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nullable = (s: Schema): Schema => ({ ...s, type: [s['type'] as string, 'null'] });
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema => ({ type: 'object', additionalProperties: true, required, properties });
const arr = (items: Schema): Schema => ({ type: 'array', items });

export const TAGS = [
  { name: 'answers', description: 'Who vendors what, from a completed library scan (its coverage comes with every answer).' },
  { name: 'advisories', description: 'Copies that fall under an advisory, and what changed between two runs.' },
  { name: 'scans', description: 'Library scans of a channel or a list of store paths, and their progress.' },
  { name: 'searches', description: 'Emergency searches: a YARA rule, a needle or a hex pattern in every file.' },
  { name: 'service', description: 'Health and metrics.' },
];

const error = (description: string, extra: Record<string, Schema> = {}): Schema => ({
  description,
  ...obj({ error: str, code: str, message: str, ...extra }, ['error']),
});
const BAD_REQUEST = error('A malformed parameter or body: `parameter` names it; for a YARA rule that does not compile, `line` and `column` say where.', {
  parameter: str,
  line: int,
  column: int,
});
const UNAUTHORIZED = error('No or a wrong bearer token (or writes are disabled: no VENDORSCAN_API_TOKEN on the server).');
const NOT_FOUND = error('No such resource, or no completed run to answer from yet.');
const TOO_LARGE = error('The request body is over 1 MiB.');

const coverage = obj({
  runId: int,
  kind: str,
  scope: obj({ kind: str, channel: nullable(str), revision: nullable(str), label: str }),
  state: str,
  startedAt: nullable(str),
  finishedAt: nullable(str),
  rulesetDigest: str,
  total: int,
  scanned: int,
  reused: int,
  notInCache: int,
  failed: int,
  pending: int,
  complete: { type: 'boolean' },
  incomplete: nullable(str),
});
const runRow = obj({
  id: int,
  kind: { type: 'string', enum: ['library-scan', 'adhoc-scan'] },
  channelRevision: nullable(str),
  source: obj({ kind: str, channel: str, label: str }, ['kind', 'label']),
  cacheUrl: str,
  rulesetDigest: str,
  state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] },
  total: nullable(int),
  error: nullable(str),
  createdAt: str,
  startedAt: nullable(str),
  finishedAt: nullable(str),
});
const runProgressProps = {
  ...(runRow['properties'] as Record<string, Schema>),
  scanned: int,
  skipped: int,
  notInCache: int,
  failed: int,
  pending: int,
  downloadedBytes: int,
  narBytes: int,
  findings: int,
  retries: int,
  reattempted: int,
};
const runProgress = obj(runProgressProps);
const copy = obj(
  {
    storePath: str,
    pname: str,
    packageVersion: nullable(str),
    file: { type: 'string', description: 'path inside the store path; `!/` separates an archive from its member' },
    library: str,
    version: nullable(str),
    versionRaw: nullable(str),
    confidence: { type: 'string', enum: ['high', 'medium', 'low'] },
    evidence: str,
    rule: str,
    vendored: { type: 'boolean' },
    linkage: { type: 'string', enum: ['copy', 'built-against', 'unknown'] },
    advisories: arr(str),
    attribute: nullable(str),
    maintainers: arr(str),
    homepage: nullable(str),
    position: nullable(str),
    links: obj({ search: nullable(str), hydra: nullable(str) }),
  },
  ['storePath', 'pname', 'file', 'library', 'version', 'versionRaw', 'confidence', 'evidence', 'vendored'],
);
const searchRow = obj({
  id: int,
  kind: { type: 'string', enum: ['yara', 'needle', 'hex'] },
  pattern: str,
  scope: obj({ runId: int, paths: int }, []),
  cacheUrl: str,
  state: { type: 'string', enum: ['queued', 'running', 'completed', 'failed'] },
  total: nullable(int),
  scanned: int,
  notInCache: int,
  failed: int,
  pending: int,
  matches: int,
  createdAt: str,
  firstMatchAt: nullable(str),
  finishedAt: nullable(str),
});
const advisoryHead = obj({ id: str, aliases: arr(str), summary: nullable(str), published: nullable(str), modified: str }, ['id']);
const runRef = { description: 'the run answered from, with its coverage', ...coverage };

const ok = (description: string, schema: Schema): Schema => ({ description, ...schema });

/** Responses by "METHOD url", as the routes are registered. */
export const RESPONSES: Record<string, Record<string, Schema>> = {
  'GET /healthz': {
    200: ok('The store answers and the cache can be opened; the signatures this process runs.', obj({ ok: { type: 'boolean' }, database: str, signatures: str })),
    503: ok('The configured binary cache cannot be opened (the reason is in cache.error).', obj({ ok: { type: 'boolean' }, database: str, signatures: str })),
  },
  'GET /metrics': { 200: { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': { schema: str } } } },
  'GET /v1/vendors': {
    200: ok(
      'One page of copies of the library.',
      obj(
        {
          run: runRef,
          library: str,
          version: nullable(str),
          total: int,
          totalExact: { type: 'boolean', description: 'false: at least total (a run still going is counted up to a cap)' },
          totalSource: { type: 'string', enum: ['cached', 'counted', 'capped'] },
          suppressed: int,
          limit: int,
          offset: int,
          next: { ...nullable(str), description: 'pass as after= for the next page (same filters and sort); null on the last page' },
          results: arr(copy),
        },
        ['run', 'library', 'total', 'limit', 'offset', 'next', 'results'],
      ),
    ),
  },
  'GET /v1/libraries': {
    200: ok(
      'Per library and version: copies, store paths, vendored copies.',
      obj({ run: runRef, libraries: arr(obj({ library: str, version: nullable(str), copies: int, storePaths: int, vendoredCopies: int })) }),
    ),
  },
  'POST /v1/scans': { 202: ok('The run was queued: its progress so far.', runProgress) },
  'GET /v1/scans': { 200: ok('Runs, newest first.', obj({ scans: arr(runRow) })) },
  'GET /v1/scans/:id': {
    200: ok("The run's progress and up to 100 failed or not-in-cache store paths.", obj({ ...runProgressProps, failures: arr(obj({ storePath: str, status: str, reason: nullable(str) })) })),
  },
  'POST /v1/searches': { 202: ok('The search was queued: its progress so far.', searchRow) },
  'GET /v1/searches/:id': {
    200: ok(
      'Progress and the matches so far.',
      obj({ ...(searchRow['properties'] as Record<string, Schema>), results: arr(obj({ storePath: str, file: str, rule: str, matches: {} })) }),
    ),
  },
  'GET /v1/advisories': {
    200: ok(
      "Advisories with the run's affected and cannot-tell counts.",
      obj({
        run: coverage,
        advisories: arr(obj({ ...(advisoryHead['properties'] as Record<string, Schema>), libraries: arr(str), affected: int, cannotTell: int }, ['id', 'affected', 'cannotTell'])),
      }),
    ),
  },
  'GET /v1/advisories/:id/affected': {
    200: ok(
      'The copies an advisory affects, and those whose version cannot be told.',
      obj({
        run: coverage,
        advisory: obj({ ...(advisoryHead['properties'] as Record<string, Schema>), details: nullable(str), references: arr(obj({ type: str, url: str })) }, ['id']),
        affected: arr(copy),
        cannotTell: arr(copy),
        totalAffected: int,
        totalCannotTell: int,
      }),
    ),
  },
  'GET /v1/diff': {
    200: ok(
      'What appeared, went away or changed between two runs.',
      obj({
        from: coverage,
        to: coverage,
        appeared: arr(copy),
        disappeared: arr(copy),
        changed: arr(obj({ before: copy, after: copy })),
        newlyAffected: arr(obj({ copy, advisories: arr(str) })),
        noLongerAffected: arr(obj({ copy, advisories: arr(str) })),
      }),
    ),
  },
};

/** Routes that answer from the latest completed run: 404 while there is none. */
const ANSWERS_FROM_A_RUN = new Set(['GET /v1/vendors', 'GET /v1/libraries', 'GET /v1/advisories', 'GET /v1/diff', 'POST /v1/searches']);

interface RouteSchema {
  hide?: boolean;
  tags?: string[];
  security?: { [label: string]: readonly string[] }[];
  querystring?: unknown;
  params?: unknown;
  body?: unknown;
  response?: Record<string, unknown>;
}

/** Fills one route's documentation: the responses above, then the error bodies it can return. */
export function documentRoute(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as RouteSchema;
  if (schema.hide) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const key = `${methods[0]} ${route.url}`;
  const known = RESPONSES[key] ?? {};
  const response: Record<string, unknown> = { ...known };
  // A route's own response schema wins; it keeps the description written here when it has none.
  for (const [code, own] of Object.entries(schema.response ?? {})) {
    const description = (known[code] as Schema | undefined)?.['description'];
    response[code] = own && typeof own === 'object' && !('description' in own) && description ? { ...own, description } : own;
  }
  if (!Object.keys(response).some((c) => c.startsWith('2'))) response['200'] = { description: 'OK' };
  if ((schema.querystring || schema.params || schema.body) && !response['400']) response['400'] = BAD_REQUEST;
  if ((schema.params || ANSWERS_FROM_A_RUN.has(key)) && !response['404']) response['404'] = NOT_FOUND;
  if (schema.security && !response['401']) response['401'] = UNAUTHORIZED;
  if (schema.body && !response['413']) response['413'] = TOO_LARGE;
  route.schema = { ...schema, tags: schema.tags ?? ['service'], response };
}

/**
 * Call before any route is registered: documents every route, and keeps schemas documentation
 * only (responses are JSON.stringify'd as the handlers return them).
 */
export function documentOnly(app: FastifyInstance): void {
  app.addHook('onRoute', documentRoute);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}
