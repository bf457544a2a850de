// The dashboard for people, served by the API's own Fastify process: server-rendered pages from
// the same store functions and API answers, a little bundled JS (uPlot for the chart, live
// progress, the search form) served from here, and a Content-Security-Policy that allows this
// origin only: the service runs offline and a page never makes a request elsewhere.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { httpStatusFor, isVendorscanError, messageOf } from '../errors/errors.ts';
import { answeringRun, runCoverage } from '../store/coverage.ts';
import { DeepOffsetError, isKnownLibrary, libraries } from '../store/queries.ts';
import { listRuns, runFailures, runProgress } from '../store/runs.ts';
import { previousRunOfScope } from '../store/diff.ts';
import { listSearches, searchMatches, searchProgress } from '../store/searches.ts';
import type { ApiDeps } from '../services/api/deps.ts';
import { askApiText } from './data.ts';
import { advisoryList, affectedBy, diffRuns } from '../services/decisions/answers.ts';
import { html, layout, type SafeHtml } from './html.ts';
import { ADVISORY_PAGE_SIZE, advisoryPage, affectedUrl } from './pages/advisory.ts';
import { diffPage } from './pages/diff.ts';
import { libraryFilters, libraryPage, libraryRows, type LibraryQuery } from './pages/library.ts';
import { overviewData, overviewPage, PerRunMemo } from './pages/overview.ts';
import { runPage, runsPage } from './pages/runs.ts';
import { searchesPage, searchPage } from './pages/searches.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UPLOT_DIST = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** The static files, read once: name → [content type, bytes]. */
function assets(): Map<string, [string, Buffer]> {
  return new Map<string, [string, Buffer]>([
    ['app.js', ['text/javascript; charset=utf-8', readFileSync(path.join(HERE, 'assets', 'app.js'))]],
    ['app.css', ['text/css; charset=utf-8', readFileSync(path.join(HERE, 'assets', 'app.css'))]],
    ['icon.svg', ['image/svg+xml', readFileSync(path.join(HERE, 'assets', 'icon.svg'))]],
    ['uPlot.iife.min.js', ['text/javascript; charset=utf-8', readFileSync(path.join(UPLOT_DIST, 'uPlot.iife.min.js'))]],
    ['uPlot.min.css', ['text/css; charset=utf-8', readFileSync(path.join(UPLOT_DIST, 'uPlot.min.css'))]],
  ]);
}

class PageError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** What the API answers by default: vendored copies, without those the triage file hides. */
const ANSWER = { vendoredOnly: true, includeSuppressed: false } as const;

const ID = /^[0-9]{1,15}$/;
function idOf(value: string | undefined, what: string): number {
  if (value === undefined || !ID.test(value)) throw new PageError(400, `${what}: "${value ?? ''}" is not a number`);
  return Number(value);
}
function optionalId(value: string | undefined, what: string): number | undefined {
  return value === undefined || value === '' ? undefined : idOf(value, what);
}

/** The completed library scans, newest first (for the diff's and the search form's choices). */
async function completedScans(deps: ApiDeps): Promise<number[]> {
  return (await listRuns(deps.db, 200)).filter((r) => r.state === 'completed' && r.kind === 'library-scan').map((r) => r.id);
}

export function dashboardRoutes(api: FastifyInstance): FastifyPluginAsync<ApiDeps> {
  return async (app, deps) => {
    const advisories = deps.decisions.advisories;
    const files = assets();
    // The overview only shows completed runs: their per-library counts once per process, their
    // advisory counts for a few minutes (the triage file's entries expire by date).
    const libraryCounts = new PerRunMemo((runId) => libraries(deps.db, runId));
    const advisoryCounts = new PerRunMemo(async (runId) => (await advisoryList(deps.db, deps.decisions, runId, ANSWER)).advisories, 5 * 60_000);
    const hide = { schema: { hide: true } };

    app.addHook('onSend', async (_req, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    });
    const page = (reply: FastifyReply, title: string, current: string, body: SafeHtml, scripts: string[] = []): string => {
      reply.type('text/html; charset=utf-8');
      return layout({ title, current, body, scripts });
    };
    app.setErrorHandler((err, _req, reply) => {
      const status = err instanceof PageError ? err.status : isVendorscanError(err) ? httpStatusFor(err) : 500;
      reply.code(status);
      return page(reply, `Error ${status}`, '', html`<h1>${status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Something went wrong'}</h1><p class="notice error" role="alert">${messageOf(err)}</p><p><a href="/">Back to the overview</a></p>`);
    });

    app.get<{ Params: { name: string } }>('/assets/:name', hide, async (req, reply) => {
      const file = files.get(req.params.name);
      if (!file) throw new PageError(404, `no asset ${req.params.name}`);
      reply.type(file[0]).header('cache-control', 'no-cache');
      return file[1];
    });

    app.get('/', hide, async (_req, reply) => {
      const data = await overviewData(deps.db, libraryCounts, advisories, (runId) => advisoryCounts.get(runId));
      return page(reply, 'Overview', '/', overviewPage(data), ['/assets/uPlot.iife.min.js']);
    });

    app.get<{ Params: { library: string }; Querystring: LibraryQuery & { run?: string } }>('/libraries/:library', hide, async (req, reply) => {
      const library = req.params.library;
      if (library.length > 64 || !(await isKnownLibrary(deps.db, library))) throw new PageError(404, `no copy of a library named "${library}" is known`);
      const coverage = await answeringRun(deps.db, { runId: optionalId(req.query.run, 'run') });
      if (!coverage) throw new PageError(404, 'no completed library scan yet: the library page needs one');
      const f = libraryFilters(req.query);
      if ('parameter' in f) {
        reply.code(400);
        const fallback = libraryFilters({});
        if ('parameter' in fallback) throw new PageError(500, fallback.message);
        return page(reply, library, '', libraryPage({ library, coverage, filters: fallback, error: f, result: null, advisories }));
      }
      let result: Awaited<ReturnType<typeof libraryRows>>;
      try {
        result = await libraryRows(deps.db, deps.decisions, coverage.runId, library, f);
      } catch (err) {
        // A hand-made offset too deep to read: the form says so beside the filters, as for any bad parameter.
        if (!(err instanceof DeepOffsetError)) throw err;
        reply.code(400);
        return page(reply, library, '', libraryPage({ library, coverage, filters: { ...f, offset: 0 }, error: { parameter: 'offset', message: err.message }, result: null, advisories }));
      }
      return page(reply, library, '', libraryPage({ library, coverage, filters: f, error: null, result, advisories }));
    });

    app.get<{ Params: { id: string }; Querystring: { run?: string; offset?: string } }>('/advisories/:id', hide, async (req, reply) => {
      const id = req.params.id;
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(id)) throw new PageError(400, `"${id}" is not an advisory id`);
      const run = optionalId(req.query.run, 'run');
      const offset = optionalId(req.query.offset, 'offset') ?? 0;
      const coverage = await answeringRun(deps.db, { runId: run });
      if (!coverage) throw new PageError(404, 'no completed library scan yet: the advisory page needs one');
      const answer = await affectedBy(deps.db, deps.decisions, coverage.runId, id, { ...ANSWER, limit: ADVISORY_PAGE_SIZE, offset });
      const markdown = await askApiText(api, '/v1/advisories/:id/affected', affectedUrl(answer.advisory.id, { run: coverage.runId, format: 'markdown' }));
      return page(reply, answer.advisory.id, '', advisoryPage(run === undefined ? null : String(run), offset, answer, markdown));
    });

    app.get<{ Querystring: { from?: string; to?: string } }>('/diff', hide, async (req, reply) => {
      const scans = await completedScans(deps);
      const to = optionalId(req.query.to, 'to') ?? scans[0] ?? null;
      // As GET /v1/diff: the previous scan of the same scope (channel or path list), else the previous one.
      const from = optionalId(req.query.from, 'from') ?? (to === null ? null : ((await previousRunOfScope(deps.db, to)) ?? scans.find((r) => r < to) ?? null));
      for (const id of [from, to]) if (id !== null) await answeringRun(deps.db, { runId: id });
      // Every copy, vendored or not, as GET /v1/diff answers by default.
      const answer = from === null || to === null ? null : await diffRuns(deps.db, deps.decisions, from, to, { vendoredOnly: false, includeSuppressed: false });
      return page(reply, 'Diff', '/diff', diffPage(scans, from, to, answer));
    });

    app.get('/runs', hide, async (_req, reply) => {
      const runs = await listRuns(deps.db, 50);
      const rows = [];
      for (const [i, run] of runs.entries()) rows.push({ run, coverage: i < 20 ? await runCoverage(deps.db, run.id) : null });
      return page(reply, 'Runs', '/runs', runsPage(rows));
    });

    app.get<{ Params: { id: string } }>('/runs/:id', hide, async (req, reply) => {
      const id = idOf(req.params.id, 'run');
      const progress = await runProgress(deps.db, id);
      if (!progress) throw new PageError(404, `run ${id} does not exist`);
      const [coverage, failures] = await Promise.all([runCoverage(deps.db, id), runFailures(deps.db, id, 200)]);
      return page(reply, `Run ${id}`, '/runs', runPage(progress, coverage, failures));
    });

    app.get('/searches', hide, async (_req, reply) => {
      const [scans, searches] = await Promise.all([completedScans(deps), listSearches(deps.db, 20)]);
      return page(reply, 'Search', '/searches', searchesPage(scans, searches));
    });

    app.get<{ Params: { id: string } }>('/searches/:id', hide, async (req, reply) => {
      const id = idOf(req.params.id, 'search');
      const progress = await searchProgress(deps.db, id);
      if (!progress) throw new PageError(404, `search ${id} does not exist`);
      return page(reply, `Search ${id}`, '/searches', searchPage(progress, await searchMatches(deps.db, id, 500, 0)));
    });
  };
}
