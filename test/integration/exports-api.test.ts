// GET /v1/vendors?format=…: the API answers in the export formats through the same dispatcher as the
// CLI, with the right media type and a download name, over a run of the bundled demo cache scanned
// through the API itself (embedded PGlite, jobs in-process).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../services/api/app.ts';
import { openRuntime, type Runtime } from '../../services/runtime.ts';
import { loadConfig } from '../../services/config.ts';
import { freshPGlite } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait.ts';
import { cycloneDxValidator, sarifValidator, schemaErrors } from '../helpers/export-schemas.ts';

const TOKEN = 'exports-token';
const demo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'examples', 'demo-cache');
const paths = readFileSync(path.join(demo, 'store-paths.txt'), 'utf8').trim().split('\n');
let runtime: Runtime;
let app: FastifyInstance;
let runId: number;

beforeAll(async () => {
  const pglite = await freshPGlite();
  await pglite.drop();
  runtime = await openRuntime(loadConfig({ ...pglite.env, VENDORSCAN_CACHE: pathToFileURL(demo).href }), { threads: 1 });
  app = await buildApi({ ...runtime, apiToken: TOKEN });
  const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths }, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.statusCode).toBe(202);
  runId = (r.json() as { id: number }).id;
  await waitFor('the demo run', async () => (await app.inject({ method: 'GET', url: `/v1/scans/${runId}` })).json() as { state: string }, (v) => v.state === 'completed');
}, 120_000);
afterAll(async () => {
  await app?.close();
  await runtime?.close();
});

describe('GET /v1/vendors?format=', () => {
  it('csv: text/csv, a download name, one record per copy', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&vendored=any&format=csv' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="vendors-libwebp-run${runId}.csv"`);
    expect(r.headers['x-total-count']).toBe('1');
    const records = parse(r.body) as string[][];
    expect(records).toHaveLength(2);
    expect(records[1]?.slice(1, 3)).toEqual(['libwebp', '1.2.4']);
  });

  it('markdown: the tracking-issue checklist under the run coverage', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/vendors?library=libpng&vendored=any&format=markdown' });
    expect(r.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(r.body).toContain(`Coverage: Run ${runId}: `);
    expect(r.body).toMatch(/^- \[ \] `libpng` 1\.6\.39: libpng 1\.6\.39 in `lib\/libpng16\.so\.16` \(CVE-[0-9-]+(, CVE-[0-9-]+)*\) \(its own package\)$/m);
  });

  it('sarif and cyclonedx: their media types, valid against the official schemas', async () => {
    const sarif = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&vendored=any&format=sarif' });
    expect(sarif.headers['content-type']).toBe('application/sarif+json; charset=utf-8');
    expect(schemaErrors(sarifValidator(), sarif.json())).toEqual([]);
    const cdx = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&vendored=any&format=cyclonedx' });
    expect(cdx.headers['content-type']).toBe('application/vnd.cyclonedx+json; version=1.6; charset=utf-8');
    expect(schemaErrors(cycloneDxValidator(), cdx.json())).toEqual([]);
  });

  it('json stays the default; an unknown format is a 400 naming the parameter', async () => {
    const json = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&vendored=any' });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toMatchObject({ run: { runId }, total: 1 });
    const bad = await app.inject({ method: 'GET', url: '/v1/vendors?library=libwebp&format=xml' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ parameter: 'format' });
    expect((bad.json() as { message: string }).message).toMatch(/json, jsonl, csv, markdown, sarif, cyclonedx/);
  });
});
