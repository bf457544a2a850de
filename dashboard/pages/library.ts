// The library page: every store path with a copy of one library in a run, filtered by version
// range, vendored or own package and confidence, sorted on a column, one page at a time from the
// store (the same vendors query as GET /v1/vendors, so a million findings are never all read).
// "next" links continue from the last row (keyset `after`, as cheap on page 1,000 as on page 1),
// carrying the row number for the pager's label; "previous" and hand-made links use `offset`.
import type { Advisory } from '../../advisories/loader.ts';
import type { Queryable } from '../../store/database.ts';
import type { RunCoverage } from '../../store/coverage.ts';
import { parseVendorsCursor, VENDOR_SORTS, vendors, type Confidence, type UnknownMode, type VendorSort, type VendorsCursor } from '../../store/queries.ts';
import { parseVersionRange, type VersionRange } from '../../signatures/version.ts';
import { coverageBox, copyTable, pager } from '../components.ts';
import { advisoriesOf, type CopyRow } from '../data.ts';
import { decorateRows } from '../../services/decisions/answers.ts';
import type { DecisionContext } from '../../services/decisions/context.ts';
import { href, html, type SafeHtml } from '../html.ts';

export const PAGE_SIZE = 100;
const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low'];

export interface LibraryQuery {
  version?: string;
  vendored?: string;
  unknown?: string;
  confidence?: string | string[];
  sort?: string;
  order?: string;
  offset?: string;
  /** A keyset position (the vendors query's `next`); `from` is then the row number it stands at, for the label. */
  after?: string;
  from?: string;
}

export interface LibraryFilters {
  version: string;
  range: VersionRange | null;
  vendored: 'true' | 'false' | 'any';
  unknown: UnknownMode;
  confidence: Confidence[];
  sort: VendorSort;
  descending: boolean;
  /** The first row's number − 1: the offset read, or with `after` the position it stands at. */
  offset: number;
  after: VendorsCursor | null;
}

/** Reads the page's query; a malformed value is a message naming it (shown on the page with a 400). */
export function libraryFilters(q: LibraryQuery): LibraryFilters | { parameter: string; message: string } {
  const version = (q.version ?? '').trim();
  let range: VersionRange | null = null;
  if (version !== '') {
    try {
      range = parseVersionRange(version);
    } catch (err) {
      return { parameter: 'version', message: (err as Error).message };
    }
  }
  const vendored = q.vendored ?? 'true';
  if (vendored !== 'true' && vendored !== 'false' && vendored !== 'any') return { parameter: 'vendored', message: 'must be true, false or any' };
  const unknown = q.unknown ?? 'include';
  if (unknown !== 'include' && unknown !== 'exclude' && unknown !== 'only') return { parameter: 'unknown', message: 'must be include, exclude or only' };
  const given = (Array.isArray(q.confidence) ? q.confidence : q.confidence ? [q.confidence] : []).flatMap((c) => c.split(',')).filter((c) => c !== '');
  const confidence: Confidence[] = [];
  for (const c of given) {
    const known = CONFIDENCES.find((k) => k === c);
    if (!known) return { parameter: 'confidence', message: `"${c}" is not one of high, medium, low` };
    confidence.push(known);
  }
  const sort = VENDOR_SORTS.find((s) => s === (q.sort ?? 'path'));
  if (!sort) return { parameter: 'sort', message: `must be one of ${VENDOR_SORTS.join(', ')}` };
  const descending = q.order === 'desc';
  const named = q.after !== undefined ? 'from' : 'offset';
  const offset = Number((q.after !== undefined ? q.from : q.offset) ?? 0);
  if (!Number.isSafeInteger(offset) || offset < 0) return { parameter: named, message: 'must be a whole number ≥ 0' };
  let after: VendorsCursor | null = null;
  if (q.after !== undefined) {
    const parsed = parseVendorsCursor(q.after, sort, descending);
    if ('error' in parsed) return { parameter: 'after', message: parsed.error };
    after = parsed;
  }
  return { version, range, vendored, unknown, confidence, sort, descending, offset, after };
}

/** One page of copies, with their advisories and attribution as GET /v1/vendors gives them (copies the triage file hides are left out and counted). */
export async function libraryRows(db: Queryable, decisions: DecisionContext, runId: number, library: string, f: LibraryFilters): Promise<LibraryResult> {
  const page = await vendors(db, {
    runId,
    library,
    range: f.range,
    vendored: f.vendored === 'any' ? null : f.vendored === 'true',
    unknown: f.unknown,
    confidence: f.confidence,
    sort: f.sort,
    descending: f.descending,
    limit: PAGE_SIZE,
    offset: f.after ? 0 : f.offset,
    ...(f.after ? { after: f.after } : {}),
  });
  const { copies, suppressed } = await decorateRows(db, decisions, runId, page.rows, false);
  return { rows: copies, total: page.total, suppressed, next: page.next };
}

export interface LibraryResult {
  rows: CopyRow[];
  total: number;
  suppressed: number;
  /** The keyset position after this page, or null on the last page. */
  next: string | null;
}

function query(runId: number, f: LibraryFilters): Record<string, string | number | null> {
  return {
    run: runId,
    version: f.version || null,
    vendored: f.vendored === 'true' ? null : f.vendored,
    unknown: f.unknown === 'include' ? null : f.unknown,
    confidence: f.confidence.join(',') || null,
    sort: f.sort === 'path' ? null : f.sort,
    order: f.descending ? 'desc' : null,
  };
}

function filterForm(library: string, runId: number, f: LibraryFilters, error: { parameter: string; message: string } | null): SafeHtml {
  const opt = (value: string, label: string, current: string): SafeHtml => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/libraries/${encodeURIComponent(library)}" role="search" aria-label="filter copies">
<input type="hidden" name="run" value="${runId}">
<label>Version range <input name="version" value="${f.version}" placeholder="<1.6.40" aria-describedby="version-help"${error?.parameter === 'version' ? html` aria-invalid="true"` : ''}></label>
<span id="version-help" class="sub">e.g. <code>&lt;1.3.2</code>, <code>&gt;=1.6.0 &lt;1.6.43</code>, <code>=1.6.39</code></span>
<label>Packages <select name="vendored">${opt('true', 'vendored copies', f.vendored)}${opt('false', "the library's own packages", f.vendored)}${opt('any', 'both', f.vendored)}</select></label>
<label>Unknown version <select name="unknown">${opt('include', 'included', f.unknown)}${opt('exclude', 'left out', f.unknown)}${opt('only', 'only those', f.unknown)}</select></label>
<fieldset><legend>Confidence</legend>${CONFIDENCES.map((c) => html`<label class="inline"><input type="checkbox" name="confidence" value="${c}"${f.confidence.length === 0 || f.confidence.includes(c) ? html` checked` : ''}> ${c}</label>`)}</fieldset>
<input type="hidden" name="sort" value="${f.sort}"><input type="hidden" name="order" value="${f.descending ? 'desc' : 'asc'}">
<button type="submit">Apply</button>
</form>`;
}

export interface LibraryPage {
  library: string;
  coverage: RunCoverage;
  filters: LibraryFilters;
  error: { parameter: string; message: string } | null;
  result: LibraryResult | null;
  advisories: readonly Advisory[];
}

export function libraryPage(p: LibraryPage): SafeHtml {
  const { library, coverage, filters: f } = p;
  const q = query(coverage.runId, f);
  const base = `/libraries/${encodeURIComponent(library)}`;
  const sortLinks = (key: string, label: string): SafeHtml => {
    const sort = key === 'package' || key === 'version' || key === 'confidence' ? key : 'path';
    const active = f.sort === sort;
    const next = active && !f.descending ? 'desc' : null;
    const aria = active ? (f.descending ? 'descending' : 'ascending') : 'none';
    return html`<th scope="col" aria-sort="${aria}"><a href="${href(base, { ...q, sort, order: next })}">${label}${active ? (f.descending ? ' ▼' : ' ▲') : ''}</a></th>`;
  };
  const r = p.result;
  const nextAt = (res: LibraryResult): Record<string, string | number> | null => (res.next ? { after: res.next, from: f.offset + PAGE_SIZE } : null);
  return html`<h1>${library}: store paths with a copy</h1>
${coverageBox(coverage)}
${filterForm(library, coverage.runId, f, p.error)}
${p.error ? html`<p class="notice error" role="alert" data-parameter="${p.error.parameter}"><strong>${p.error.parameter}:</strong> ${p.error.message}</p>` : ''}
${
  r === null
    ? ''
    : r.total === 0
      ? html`<p data-total="0">No copy of ${library} matches these filters in run ${coverage.runId} (coverage above).</p>`
      : html`${r.suppressed > 0 ? html`<p class="sub" data-suppressed="${r.suppressed}">${r.suppressed} ${r.suppressed === 1 ? 'copy' : 'copies'} on this page hidden by the triage file.</p>` : ''}${pager(base, q, r.total, PAGE_SIZE, f.offset, nextAt(r))}
${copyTable(r.rows, { caption: `${library} copies, run ${coverage.runId}`, marks: (c) => ({ affected: c.advisories ?? [], cannotTell: advisoriesOf(p.advisories, c.library, c.version).cannotTell }), sortLinks })}
${pager(base, q, r.total, PAGE_SIZE, f.offset, nextAt(r))}`
}
<p><a href="${href('/v1/vendors', { library, run: coverage.runId, version: f.version || null, vendored: f.vendored, unknown: f.unknown, confidence: f.confidence.join(',') || null, sort: f.sort, order: f.descending ? 'desc' : null, limit: PAGE_SIZE, offset: f.offset })}">This answer as JSON</a></p>`;
}
