// GET /v1/vendors: store paths that carry a copy of a library, from the latest completed run;
// `format=` other than json answers in an export format (services/output/) with its media type.
// Pages: `offset`, or keyset `after=<next of the previous page>`, which costs the same at any depth.
import type { FastifyPluginAsync } from 'fastify';
import { DeepOffsetError, isKnownLibrary, LINKAGE_CHOICES, linkagesOf, parseVendorsCursor, VENDOR_SORTS, vendors, type Confidence, type LinkageChoice, type UnknownMode, type VendorSort, type VendorsCursor } from '../../../store/queries.ts';
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
  confidence?: string;
  sort: VendorSort;
  order: 'asc' | 'desc';
  limit: number;
  offset?: number;
  after?: string;
  format: 'json' | ApiExportFormat;
}

const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low'];

function confidenceParam(given: string | undefined): Confidence[] {
  const out: Confidence[] = [];
  for (const c of (given ?? '').split(',').filter((x) => x !== '')) {
    const known = CONFIDENCES.find((k) => k === c);
    if (!known) throw new BadRequestError('confidence', `"${c.slice(0, 40)}" is not one of high, medium, low`);
    out.push(known);
  }
  return out;
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
            confidence: { type: 'string', maxLength: 40, description: "only these confidences, a comma list of high, medium, low (default: all)" },
            sort: { type: 'string', enum: [...VENDOR_SORTS], default: 'path', description: 'the column rows are ordered by; store path, file and rule break ties' },
            order: { type: 'string', enum: ['asc', 'desc'], default: 'asc', description: 'unknown versions come first ascending, last descending; ties stay ascending (except sort=path)' },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'rows to skip (default 0); a page that would read more than 20,000 rows past (from the start, or from the end past the middle) is a 400: use after' },
            after: { type: 'string', minLength: 1, maxLength: 20_000, description: 'keyset pagination: the "next" of the previous page (same filters and sort); as fast at any depth; not with offset' },
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
      const confidence = confidenceParam(q.confidence);
      const descending = q.order === 'desc';
      let after: VendorsCursor | undefined;
      if (q.after !== undefined) {
        if (q.offset !== undefined) throw new BadRequestError('offset', 'give offset or after, not both: after is the position to continue from');
        const parsed = parseVendorsCursor(q.after, q.sort, descending);
        if ('error' in parsed) throw new BadRequestError('after', parsed.error);
        after = parsed;
      }
      const run = await answerRun(deps, q);
      const offset = q.offset ?? 0;
      const result = await vendors(deps.db, {
        runId: run.runId,
        library: q.library,
        range,
        vendored: q.vendored === 'any' ? null : q.vendored === 'true',
        unknown: q.unknown,
        linkage: linkagesOf(q.linkage),
        confidence,
        sort: q.sort,
        descending,
        limit: q.limit,
        offset,
        ...(after ? { after } : {}),
      }).catch((err: unknown) => {
        if (err instanceof DeepOffsetError) throw new BadRequestError('offset', err.message);
        throw err;
      });
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
        offset,
        // The `after` of the next page (same filters and sort), null on the last page.
        next: result.next,
        results: copies,
      };
    },
  );
};
