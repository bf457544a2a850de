// The dashboard end to end, in real headless Chromium (Debian's, driven by playwright-core)
// against the service holding two real scans of a Nix-made cache on PostgreSQL: each page's
// numbers against the API's, the affected marking against the advisories, the diff's added copy,
// an emergency search from the form, untrusted file names shown as text, keyboard use, and not
// one request leaving 127.0.0.1. Writes docs/screenshots/*.png at 1280 px and a phone width.
// Also: the library page from a store of 100,000 findings, and the OpenAPI document at /docs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApi } from '../../services/api/app.ts';
import { loadConfig } from '../../services/config.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { CONTENT_SECURITY_POLICY } from '../../dashboard/plugin.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { buildServiceCache, type ServiceCache } from '../helpers/service-cache.ts';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';
import { addToStore, makeBinaryCache } from '../helpers/nix.ts';
import { waitFor } from '../helpers/wait.ts';
import { seedManyFindings } from '../helpers/many-findings.ts';
import { migrate } from '../../store/migrate.ts';
import { addRunPaths, createRun, markRunStarted, setRunTotal } from '../../store/runs.ts';
import { vendors, vendorsSql } from '../../store/queries.ts';

const TOKEN = 'dashboard-token-1';
const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
/** A file name that would be markup if a page did not escape it. */
const HOSTILE_FILE = '"><img src=x onerror=alert(1)><b>libpng16.so';

let cache: ServiceCache;
let hostilePath: string;
let server: StaticServer;
let store: TestDatabase;
let runtime: Runtime;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let desktop: BrowserContext;
let phone: BrowserContext;
const requests: string[] = [];
const consoleErrors: string[] = [];
let firstRun: number;
let secondRun: number;
/** The libpng copy only the second run has. */
let added: string;

const api = async <T>(url: string): Promise<T> => {
  const r = await app.inject({ method: 'GET', url });
  expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
  return r.json() as T;
};

async function scan(paths: string[]): Promise<number> {
  const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths }, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.statusCode).toBe(202);
  const id = (r.json() as { id: number }).id;
  await waitFor('the run', () => api<{ state: string }>(`/v1/scans/${id}`), (v) => v.state === 'completed');
  return id;
}

function watch(context: BrowserContext): void {
  context.on('request', (r) => requests.push(r.url()));
  context.on('page', (p) => {
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
  });
}

/** Opens `url` at both widths, runs `check` on the desktop page, and writes both screenshots. */
async function visit(name: string, url: string, check: (page: Page) => Promise<void> = async () => {}): Promise<Page> {
  const page = await desktop.newPage();
  const r = await page.goto(`${base}${url}`);
  const policy = r?.headers()['content-security-policy'] ?? '';
  if (url.startsWith('/docs')) expect(policy).toMatch(/^default-src 'none';/);
  else expect(policy).toBe(CONTENT_SECURITY_POLICY);
  // This origin only: no scheme, host or wildcard anywhere in the policy.
  expect(policy).not.toMatch(/https?:|\*|\.[a-z]{2,}\b/);
  await check(page);
  await page.screenshot({ path: path.join(SHOTS, `${name}-1280.png`), fullPage: true });
  const small = await phone.newPage();
  await small.goto(`${base}${url}`);
  await small.waitForLoadState('load');
  // Readable on a phone: nothing but the tables' own scroll boxes is wider than the screen.
  const overflow = await small.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow, `${name} scrolls sideways on a phone`).toBeLessThanOrEqual(1);
  await small.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await small.close();
  return page;
}

const numberIn = async (page: Page, selector: string): Promise<number> => Number(await page.locator(selector).first().textContent());

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  cache = buildServiceCache(6);
  hostilePath = addToStore('hostile-1.0', { lib: { [HOSTILE_FILE]: readFileSync('/usr/lib/x86_64-linux-gnu/libpng16.so.16') } });
  makeBinaryCache([hostilePath], 'xz', cache.dir);
  server = await serveDirectory(cache.dir);
  store = await freshPostgres();
  // Attribution for the libpng copies of the first app, as `nix-env -qa --json --meta --out-path` lists it.
  const packagesFile = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-packages-')), 'packages.json');
  const attributed = cache.libpngCopies[0] ?? '';
  writeFileSync(packagesFile, JSON.stringify({ app0: { name: 'app0-1.0', pname: 'app0', version: '1.0', system: 'x86_64-linux', outputName: 'out', outputs: { out: attributed }, meta: { maintainers: [{ github: 'alice', name: 'Alice' }], homepage: 'https://example.org/app0', position: 'pkgs/by-name/ap/app0/package.nix:12' } } }));
  runtime = await openRuntime(loadConfig({ ...store.env, VENDORSCAN_CACHE: server.url, VENDORSCAN_PACKAGES: packagesFile }), { threads: 2 });
  app = await buildApi({ ...runtime, apiToken: TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  added = cache.libpngCopies.at(-1) ?? '';
  const all = [...cache.storePaths, hostilePath];
  firstRun = await scan(all.filter((p) => p !== added));
  secondRun = await scan(all);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  watch(desktop);
  watch(phone);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await runtime?.close();
  await store?.drop();
  await server?.close();
});

describe('the dashboard in Chromium', () => {
  it("shows the latest run's coverage and the API's counts on the overview", async () => {
    const libs = await api<{ libraries: { library: string; version: string | null; vendoredCopies: number }[] }>(`/v1/libraries?run=${secondRun}`);
    const progress = await api<{ scanned: number; skipped: number; notInCache: number; failed: number; total: number }>(`/v1/scans/${secondRun}`);
    const page = await visit('overview', '/', async (p) => {
      expect(await p.locator('.coverage').getAttribute('data-run')).toBe(String(secondRun));
      expect(await numberIn(p, '.coverage [data-count="total"]')).toBe(progress.total);
      expect(await numberIn(p, '.coverage [data-count="scanned"]')).toBe(progress.scanned);
      expect(await numberIn(p, '.coverage [data-count="reused"]')).toBe(progress.skipped);
      expect(await numberIn(p, '.coverage [data-count="notInCache"]')).toBe(progress.notInCache);
      expect(await numberIn(p, '.coverage [data-count="failed"]')).toBe(progress.failed);
      for (const l of libs.libraries) {
        const row = p.locator(`section[data-library="${l.library}"] tr[data-version="${l.version ?? ''}"]`);
        expect(Number(await row.locator('[data-vendored-copies]').textContent()), `${l.library} ${l.version}`).toBe(l.vendoredCopies);
      }
      // The chart is drawn by the bundled uPlot: one per library, two runs on it.
      await p.locator('#chart figure.chart canvas').first().waitFor();
      expect(await p.locator('#chart figure.chart').count()).toBe(new Set(libs.libraries.map((l) => l.library)).size);
    });
    expect(libs.libraries.find((l) => l.library === 'libpng')).toMatchObject({ version: '1.6.39', vendoredCopies: cache.libpngCopies.length + 1 });
    await page.close();
  });

  it("marks the versions inside an advisory's range, as the advisories answer", async () => {
    const page = await desktop.newPage();
    await page.goto(`${base}/`);
    // libpng 1.6.39 is below the fix of CVE-2025-64720 (1.6.51): marked, with its vendored copies counted.
    const libpng = page.locator('section[data-library="libpng"] tr[data-version="1.6.39"]');
    expect((await libpng.getAttribute('data-affected'))?.split(' ')).toEqual(expect.arrayContaining(['CVE-2025-64720', 'CVE-2025-65018']));
    expect(await libpng.getAttribute('class')).toContain('affected');
    expect(await page.locator('section[data-library="libpng"] [data-in-range]').getAttribute('data-in-range')).toBe(String(cache.libpngCopies.length + 1));
    const adv = await api<{ advisories: { id: string; affected: number; cannotTell: number }[] }>(`/v1/advisories?run=${secondRun}`);
    const listed = adv.advisories.filter((x) => x.affected > 0 || x.cannotTell > 0);
    expect(await page.locator('tr[data-advisory]').count()).toBe(listed.length);
    for (const a of listed) {
      expect(await numberIn(page, `tr[data-advisory="${a.id}"] [data-affected-count]`), a.id).toBe(a.affected);
      expect(await numberIn(page, `tr[data-advisory="${a.id}"] [data-cannot-tell-count]`), a.id).toBe(a.cannotTell);
    }
    // Every vendored libpng copy (1.6.39) falls under CVE-2025-64720, and the library page marks each one.
    expect(adv.advisories.find((a) => a.id === 'CVE-2025-64720')?.affected).toBe(cache.libpngCopies.length + 1);
    await page.close();
  });

  it('lists every copy on the library page, filtered and sorted by keyboard, file names as text', async () => {
    const vendors = await api<{ total: number; results: { storePath: string; file: string }[] }>(`/v1/vendors?library=libpng&run=${secondRun}&limit=1000`);
    const page = await visit('library', `/libraries/libpng?run=${secondRun}`, async (p) => {
      const rows = p.locator('table.copies tbody tr');
      expect(await rows.count()).toBe(vendors.total);
      expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store-path')))).sort()).toEqual(vendors.results.map((v) => v.storePath).sort());
      // The hostile file name is shown as text: no element was made from it.
      await expect(p.locator('table.copies').textContent()).resolves.toContain(HOSTILE_FILE);
      expect(await p.locator('main img, main b').count()).toBe(0);
      // The attributed package links to search.nixos.org and Hydra (links only: nothing is fetched).
      const app0 = p.locator(`table.copies tbody tr[data-store-path="${cache.libpngCopies[0]}"]`);
      expect(await app0.locator('code.attr').textContent()).toBe('app0');
      expect(await app0.locator('a.ext', { hasText: 'search.nixos.org' }).getAttribute('href')).toMatch(/^https:\/\/search\.nixos\.org\/packages\?.*query=app0/);
      expect(await app0.locator('a.ext', { hasText: 'Hydra' }).getAttribute('href')).toMatch(/^https:\/\/hydra\.nixos\.org\/job\/.*app0\.x86_64-linux$/);
      expect(await app0.locator('.maint').textContent()).toBe('alice');
      expect(await p.locator('a.ext').count()).toBe(2);
      // The copies marked with an advisory are the ones the advisory's answer lists.
      const affected = await api<{ affected: { storePath: string }[] }>(`/v1/advisories/CVE-2025-64720/affected?run=${secondRun}`);
      const marked = await p.locator('table.copies tbody tr[data-affected~="CVE-2025-64720"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store-path')));
      expect(marked.sort()).toEqual(affected.affected.map((c) => c.storePath).sort());
    });
    // Keyboard only: Tab from the skip link to the version field, type a range, Enter.
    await page.keyboard.press('Tab');
    await expect(page.evaluate<string>('document.activeElement.textContent')).resolves.toBe('Skip to content');
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate<boolean>("document.activeElement.getAttribute('name') === 'version'")) break;
    }
    await page.keyboard.type('<1.6.39');
    await Promise.all([page.waitForURL(/version=%3C1.6.39/), page.keyboard.press('Enter')]);
    await expect(page.locator('[data-total="0"]').textContent()).resolves.toMatch(/No copy of libpng matches these filters in run \d+ \(coverage above\)/);
    await expect(page.locator('.coverage').count()).resolves.toBe(1);
    // A bad range is a 400 naming the parameter, shown on the page.
    const bad = await page.goto(`${base}/libraries/libpng?version=%3C%3C1`);
    expect(bad?.status()).toBe(400);
    await expect(page.locator('[data-parameter="version"]').count()).resolves.toBe(1);
    // The library's own package, sorted by package descending.
    await page.goto(`${base}/libraries/libpng?vendored=false&sort=package&order=desc`);
    const own = await page.locator('table.copies tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store-path')));
    expect(own).toEqual([cache.libpngOwn]);
    await page.close();
  });

  it('shows the affected packages of an advisory, the cannot-tell list apart, and a checklist', async () => {
    const url = `/advisories/CVE-2025-64720?run=${secondRun}`;
    const answer = await api<{ affected: { storePath: string }[]; totalAffected: number; totalCannotTell: number }>(`/v1/advisories/CVE-2025-64720/affected?run=${secondRun}`);
    const page = await visit('advisory', url, async (p) => {
      expect(await numberIn(p, '[data-total-affected]')).toBe(answer.totalAffected);
      expect(await numberIn(p, '[data-total-cannot-tell]')).toBe(answer.totalCannotTell);
      const shown = await p.locator('#h-affected ~ div table.copies tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store-path')));
      expect(shown.sort()).toEqual(answer.affected.map((c) => c.storePath).sort());
      // The checklist and the downloads are the API's own renderings of the same rows.
      const checklist = (await p.locator('#checklist').inputValue()).split('\n').filter((l) => l.startsWith('- [ ] '));
      expect(checklist).toHaveLength(new Set(answer.affected.map((c) => c.storePath)).size);
      await p.getByRole('button', { name: 'Copy to clipboard' }).click();
      await p.locator('.copied', { hasText: /Copied|Selected/ }).waitFor();
      for (const format of ['csv', 'sarif']) {
        const link = await p.locator(`a[download][href*="format=${format}"]`).getAttribute('href');
        const r = await app.inject({ method: 'GET', url: link ?? '' });
        expect(r.statusCode, `${format} download`).toBe(200);
        expect(r.body).toContain(answer.affected[0]?.storePath);
      }
    });
    await page.close();
  });

  it('shows the copy added between the two runs on the diff page', async () => {
    const page = await visit('diff', '/diff', async (p) => {
      expect(await p.locator('select[name="from"]').inputValue()).toBe(String(firstRun));
      expect(await p.locator('select[name="to"]').inputValue()).toBe(String(secondRun));
      const appeared = await p.locator('[data-section="appeared"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store-path')));
      expect(appeared).toContain(added);
      expect(await numberIn(p, '[data-section="disappeared"] [data-count]')).toBe(0);
    });
    await page.close();
  });

  it('lists the runs and shows one run with its coverage', async () => {
    const page = await visit('runs', '/runs', async (p) => {
      expect(await p.locator(`tr[data-run="${firstRun}"] .state`).textContent()).toBe('completed');
      expect(await p.locator(`tr[data-run="${secondRun}"] .state`).textContent()).toBe('completed');
    });
    await page.close();
    const run = await visit('run', `/runs/${secondRun}`, async (p) => {
      expect(await p.locator('.coverage').getAttribute('data-run')).toBe(String(secondRun));
      await expect(p.locator('#h-fail + p').textContent()).resolves.toMatch(/^None of the \d+ store paths failed/);
    });
    await run.close();
  });

  it('runs a search submitted from the form and shows its matches as they arrive', async () => {
    const page = await visit('search-form', '/searches');
    await page.getByLabel('Pattern', { exact: true }).fill('libpng version 1.6.39');
    await page.getByLabel('API token').fill(TOKEN);
    // Submitted from the keyboard: Enter in the token field.
    await page.getByLabel('API token').press('Enter');
    await page.locator('#search-status [data-live="state"]', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
    const id = Number(await page.locator('#search-link').textContent());
    const done = await api<{ state: string; results: { storePath: string; file: string }[] }>(`/v1/searches/${id}`);
    expect(done.state).toBe('completed');
    await page.waitForFunction(`document.querySelectorAll('#search-matches tbody tr').length === ${done.results.length}`);
    const shown = await page.locator('#search-matches tbody tr td:first-child').allTextContents();
    expect(shown.sort()).toEqual(done.results.map((m) => m.storePath).sort());
    expect(shown).toEqual(expect.arrayContaining(cache.libpngCopies));
    await page.screenshot({ path: path.join(SHOTS, 'search-1280.png'), fullPage: true });
    // A rule that does not compile: the compiler's message with line and column, at the field.
    await page.getByLabel('YARA rule').check();
    await page.getByLabel('Pattern', { exact: true }).fill('rule x {\n  strings: $a = "x"\n  condition: $a and\n}');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#pattern-error', { hasText: 'line 4, column 1' }).waitFor();
    expect(await page.locator('#pattern-error').textContent()).toMatch(/^rule: line 4, column 1: \S/);
    expect(await page.getByLabel('Pattern', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: path.join(SHOTS, 'search-error-1280.png'), fullPage: true });
    await page.close();
    const searchPage = await visit('search-result', `/searches/${id}`, async (p) => {
      expect(await p.locator('table.matches tbody tr').count()).toBe(done.results.length);
    });
    await searchPage.close();
  });

  it('serves the OpenAPI page without reaching out', async () => {
    const page = await visit('api-docs', '/docs', async (p) => {
      await p.locator('.opblock').first().waitFor();
      await p.locator('button.authorize').waitFor();
    });
    await page.close();
  });

  it("updates a run's progress live while it runs", async () => {
    // A run whose paths are registered but not yet queued: the page opens on it running.
    const runId = await createRun(runtime.db, { source: { kind: 'paths', label: 'live run' }, cacheUrl: server.url, rulesetDigest: runtime.signatures.digest });
    await markRunStarted(runtime.db, runId);
    await addRunPaths(runtime.db, runId, cache.storePaths);
    await setRunTotal(runtime.db, runId, cache.storePaths.length);
    const page = await desktop.newPage();
    await page.goto(`${base}/runs/${runId}`);
    expect(await page.locator('.progress [data-live="state"]').textContent()).toBe('running');
    expect(await numberIn(page, '.progress [data-live="pending"]')).toBe(cache.storePaths.length);
    await runtime.enqueue([{ kind: 'run-paths', runId, storePaths: cache.storePaths }]);
    // No reload: app.js polls GET /v1/scans/:id and rewrites the numbers.
    await page.locator('.progress [data-live="state"]', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
    expect(await numberIn(page, '.progress [data-live="pending"]')).toBe(0);
    expect(await numberIn(page, '.progress [data-live="skipped"]')).toBe(cache.storePaths.length);
    await page.close();
  });

  it('made no request beyond 127.0.0.1, and no page logged an error', () => {
    expect(requests.length).toBeGreaterThan(20);
    const elsewhere = requests.filter((u) => new URL(u).hostname !== '127.0.0.1');
    expect(elsewhere).toEqual([]);
    // The errors a page may log: the two 400s the tests asked for (a bad range, a bad rule).
    const asked = [/\/libraries\/libpng\?version=%3C%3C1: Failed to load resource: .* 400/, /\/searches: Failed to load resource: .* 400/];
    expect(consoleErrors.filter((e) => !asked.some((a) => a.test(e)))).toEqual([]);
  });
});

describe('the OpenAPI document', () => {
  interface Operation {
    tags?: string[];
    security?: Record<string, string[]>[];
    responses: Record<string, { description: string; content?: Record<string, { schema?: object }> }>;
    parameters?: { in: string }[];
    requestBody?: unknown;
  }
  let doc: { paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    doc = await api('/docs/json');
  });

  it('describes every route: a tag, its success and its error bodies, the bearer scheme where a token is needed', () => {
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ route: `${m.toUpperCase()} ${p}`, op })));
    expect(ops.map((o) => o.route)).toEqual(expect.arrayContaining(['GET /v1/vendors', 'GET /v1/libraries', 'POST /v1/scans', 'GET /v1/scans', 'GET /v1/scans/{id}', 'POST /v1/searches', 'GET /v1/searches/{id}', 'GET /healthz', 'GET /metrics']));
    expect(ops.some((o) => o.route === 'GET /' || o.route.startsWith('GET /libraries'))).toBe(false);
    for (const { route, op } of ops) {
      expect(op.tags?.length, route).toBeGreaterThan(0);
      expect(Object.keys(op.responses), route).not.toContain('default');
      const success = Object.keys(op.responses).filter((c) => c.startsWith('2'));
      expect(success.length, route).toBe(1);
      expect(op.responses[success[0]!]!.description, route).not.toBe('Default Response');
      if (op.parameters?.some((x) => x.in === 'path')) expect(op.responses['404'], route).toBeDefined();
      if (op.parameters?.length || op.requestBody) expect(op.responses['400']?.content?.['application/json']?.schema, route).toBeDefined();
    }
    for (const route of ['/v1/scans', '/v1/searches']) {
      const op = doc.paths[route]!['post']!;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['202', '400', '401']));
      expect(op.security).toEqual([{ bearer: [] }]);
    }
    expect(doc.paths['/v1/vendors']!['get']!.security).toBeUndefined();
  });

  it("matches what the routes answer: real responses validate against the document's schemas", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // The document whole, so that a schema's $ref into components/schemas resolves.
    ajv.addSchema(doc, 'openapi.json');
    const pointer = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');
    const checks: [string, string, string][] = [
      ['/healthz', '/healthz', '200'],
      ['/v1/scans', '/v1/scans', '200'],
      ['/v1/scans/{id}', `/v1/scans/${secondRun}`, '200'],
      ['/v1/libraries', `/v1/libraries?run=${secondRun}`, '200'],
      ['/v1/vendors', '/v1/vendors?library=libpng&vendored=any', '200'],
      ['/v1/scans/{id}', '/v1/scans/999999', '404'],
      ['/v1/vendors', '/v1/vendors?library=libpng&version=%3C%3C1', '400'],
    ];
    checks.push(['/v1/advisories', `/v1/advisories?run=${secondRun}`, '200']);
    checks.push(['/v1/advisories/{id}/affected', `/v1/advisories/CVE-2025-64720/affected?run=${secondRun}`, '200']);
    checks.push(['/v1/diff', `/v1/diff?from=${firstRun}&to=${secondRun}`, '200']);
    checks.push(['/v1/advisories/{id}/affected', `/v1/advisories/CVE-1999-0001/affected?run=${secondRun}`, '404']);
    for (const [route, url, status] of checks) {
      const schema = doc.paths[route]?.['get']?.responses[status]?.content?.['application/json']?.schema;
      expect(schema, `${route} ${status}`).toBeDefined();
      const r = await app.inject({ method: 'GET', url });
      expect(String(r.statusCode), url).toBe(status);
      const validate = ajv.compile({ $ref: `openapi.json#/paths/${pointer(route)}/get/responses/${status}/content/${pointer('application/json')}/schema` });
      expect(validate(r.json()) ? [] : validate.errors, url).toEqual([]);
    }
  });
});

describe('the library page on a big store', () => {
  it('renders one page of 100,000 findings, filtered and sorted', async () => {
    const big = await freshPostgres();
    try {
      await migrate(big.db);
      const runId = await seedManyFindings(big.db, 1000, 100);
      const bigApp = await buildApi({ ...runtime, db: big.db, apiToken: null });
      try {
        const first = await bigApp.inject({ method: 'GET', url: '/libraries/libpng' });
        expect(first.statusCode).toBe(200);
        expect(first.body).toContain(`data-run="${runId}"`);
        expect(first.body).toMatch(/rows 1–100 of 100000\b/);
        expect(first.body.match(/<tr class="[^"]*" data-store-path=/g)).toHaveLength(100);
        const filtered = await bigApp.inject({ method: 'GET', url: '/libraries/libpng?version=%3C1.6.37&unknown=exclude&confidence=high&sort=version&order=desc&offset=200' });
        expect(filtered.statusCode).toBe(200);
        // 1 version in 7 is below 1.6.37 and 1 finding in 3 is high: the store's own count.
        const total = Number(/rows \d+–\d+ of (\d+)/.exec(filtered.body)?.[1]);
        const json = await bigApp.inject({ method: 'GET', url: '/v1/vendors?library=libpng&version=%3C1.6.37&unknown=exclude&limit=1' });
        expect(total).toBeGreaterThan(0);
        expect(total).toBeLessThan((json.json() as { total: number }).total);
        expect(filtered.body).toContain('1.6.34');
        expect(filtered.body).not.toMatch(/<span class="ver">1\.6\.(39|40|43|44)<\/span>/);
        // A page past the middle is read from the end: the same rows as the forward OFFSET.
        for (const [sort, descending] of [['path', false], ['path', true], ['version', true], ['version', false], ['package', true], ['confidence', false]] as const) {
          const q = { runId, library: 'libpng', range: null, vendored: true, unknown: 'include', limit: 100, offset: 100_000 - 150, sort, descending } as const;
          const fromEnd = await vendors(big.db, q);
          const sql = vendorsSql(q);
          const forward = (await big.db.query<{ path: string; file: string }>(sql.page, [...sql.params, q.limit, q.offset])).rows;
          expect(fromEnd.total).toBe(100_000);
          expect(fromEnd.rows.map((r) => `${r.storePath} ${r.file}`), `${sort} ${descending}`).toEqual(forward.map((r) => `${r.path} ${r.file}`));
        }
        const last = await vendors(big.db, { runId, library: 'libpng', range: null, vendored: true, unknown: 'include', limit: 100, offset: 100_000 - 30 });
        expect(last.rows).toHaveLength(30);
      } finally {
        await bigApp.close();
      }
    } finally {
      await big.drop();
    }
  }, 300_000);
});
