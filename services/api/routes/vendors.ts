// GET /v1/vendors: store paths that carry a copy of a library, from the latest completed run;
// `format=` other than json answers in an export format (services/output/) with its media type.
import type { FastifyPluginAsync } from 'fastify';
import { isKnownLibrary, LINKAGE_CHOICES, linkagesOf, vendors, type LinkageChoice, type UnknownMode } from '../../../store/queries.ts';
import { parseVersionRange, type VersionRange } from '../../../signatures/version.ts';
import type { ApiDeps } from '../deps.ts';
import { BadRequestError } from '../errors.ts';
import { answerRun, channelParam, runIdParam } from '../common.ts';
import { decorateRows } from '../../decisions/answers.ts';
import { exportFormatParam, sendExport, type ApiExportFormat } from '../export.ts';

interface VendorsQuery {
  library: string;
  version?: string;
  run?: string;
  channel?: string;
  vendored: 'true' | 'false' | 'any';
  unknown: UnknownMode;
  linkage?: LinkageChoice;
  limit: number;
  offset: number;
  format: 'json' | ApiExportFormat;
}


export const vendorsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  // Libraries the loaded signatures look for: known even before a run found any copy.
  const signatureLibraries = new Set([...deps.signatures.rules.values()].map((m) => m.library));
  app.get<{ Querystring: VendorsQuery }>(
    '/v1/vendors',
    {
      schema: {
        tags: ['answers'],
        description: 'Store paths that carry a copy of a library, from the latest completed library scan (of channel=NAME, or run=ID), with the coverage of that run.',
        querystring: {
          type: 'object',
          required: ['library'],
          additionalProperties: false,
          properties: {
            library: { type: 'string', minLength: 1, maxLength: 64 },
            version: { type: 'string', maxLength: 200, description: "a range: '<1.3.2', '>=1.6.0 <1.6.43'" },
            run: runIdParam,
            channel: channelParam,
            vendored: { type: 'string', enum: ['true', 'false', 'any'], default: 'true' },
            unknown: { type: 'string', enum: ['include', 'exclude', 'only'], default: 'include' },
            linkage: {
              type: 'string',
              enum: [...LINKAGE_CHOICES],
              description: "default: copy and unknown; built-against findings (programs linked to the shared library) are not copies: 'any' or 'built-against' shows who links it",
            },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
            format: exportFormatParam,
          },
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (!signatureLibraries.has(q.library) && !(await isKnownLibrary(deps.db, q.library))) throw new BadRequestError('library', `unknown library "${q.library}"`);
      let range: VersionRange | null = null;
      if (q.version !== undefined) {
        try {
          range = parseVersionRange(q.version);
        } catch (err) {
          throw new BadRequestError('version', (err as Error).message);
        }
      }
      const run = await answerRun(deps, q);
      const result = await vendors(deps.db, { runId: run.runId, library: q.library, range, vendored: q.vendored === 'any' ? null : q.vendored === 'true', unknown: q.unknown, linkage: linkagesOf(q.linkage), limit: q.limit, offset: q.offset });
      // Every copy says which advisories it falls under; copies the configured triage file hides are left out.
      const { copies, suppressed } = await decorateRows(deps.db, deps.decisions, run.runId, result.rows, false);
      if (q.format !== 'json') {
        const title = `${q.vendored === 'true' ? 'vendored ' : ''}copies of ${q.library}${q.version ? ` ${q.version}` : ''}`;
        return sendExport(reply, q.format, { coverage: run, rows: copies, total: result.total, title, filename: `vendors-${q.library}-run${run.runId}` });
      }
      // The total is exact for a completed run (counted once per query, then cached); while a run goes on, "at least" past 10,000.
      return {
        run,
        library: q.library,
        version: q.version ?? null,
        total: result.total,
        totalExact: result.totals.exact,
        totalSource: result.totals.source,
        suppressed,
        limit: q.limit,
        offset: q.offset,
        results: copies,
      };
    },
  );
};
