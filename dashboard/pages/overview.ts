// The overview at /: the latest library scan's coverage; per library, copies by detected version
// with the versions inside an advisory's range marked; the advisories with their affected counts;
// and a chart of copies and copies in an advisory's range per library over the last runs.
import type { Advisory } from '../../advisories/loader.ts';
import type { Queryable } from '../../store/database.ts';
import { latestLibraryScan, runCoverage, type RunCoverage } from '../../store/coverage.ts';
import type { LibraryRow } from '../../store/queries.ts';
import { listRuns } from '../../store/runs.ts';
import type { AdvisorySummary } from '../../services/decisions/answers.ts';
import { advisoryLinks, coverageBox, noRun } from '../components.ts';
import { advisoriesOf } from '../data.ts';
import { dataJson, href, html, type SafeHtml } from '../html.ts';

/** Runs the chart spans. */
export const CHART_RUNS = 12;

export interface LibraryVersion extends LibraryRow {
  affected: string[];
  cannotTell: string[];
}

export interface ChartPoint {
  runId: number;
  finishedAt: string | null;
  copies: Record<string, number>;
  affected: Record<string, number>;
}

/** Per library, vendored copies in total and in versions some advisory's range holds. */
function perLibrary(rows: readonly LibraryRow[], advisories: readonly Advisory[]): { copies: Record<string, number>; affected: Record<string, number> } {
  const copies: Record<string, number> = {};
  const affected: Record<string, number> = {};
  for (const r of rows) {
    copies[r.library] = (copies[r.library] ?? 0) + r.vendoredCopies;
    if (advisoriesOf(advisories, r.library, r.version).affected.length > 0) affected[r.library] = (affected[r.library] ?? 0) + r.vendoredCopies;
  }
  return { copies, affected };
}

/**
 * Answers about completed runs, kept per run: a completed run's copies never change, so the chart
 * reads each run's per-library counts once per process. `ttlMs` bounds how long an answer that also
 * depends on the clock (the triage file's expiry dates) is reused.
 */
export class PerRunMemo<T> {
  readonly #load: (runId: number) => Promise<T>;
  readonly #ttlMs: number;
  readonly #entries = new Map<number, { at: number; value: Promise<T> }>();
  constructor(load: (runId: number) => Promise<T>, ttlMs = Number.POSITIVE_INFINITY) {
    this.#load = load;
    this.#ttlMs = ttlMs;
  }
  get(runId: number): Promise<T> {
    const hit = this.#entries.get(runId);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.value;
    const value = this.#load(runId);
    value.catch(() => this.#entries.delete(runId));
    this.#entries.set(runId, { at: Date.now(), value });
    // Keep the newest runs only: the chart never reads further back.
    for (const old of [...this.#entries.keys()].sort((a, b) => a - b).slice(0, Math.max(0, this.#entries.size - 4 * CHART_RUNS))) this.#entries.delete(old);
    return value;
  }
}

/** The last completed library scans, oldest first, with their per-library counts. */
export async function chartSeries(db: Queryable, memo: PerRunMemo<LibraryRow[]>, advisories: readonly Advisory[], latest: number): Promise<ChartPoint[]> {
  const runs = (await listRuns(db, 200)).filter((r) => r.state === 'completed' && r.id <= latest && r.kind === 'library-scan').slice(0, CHART_RUNS);
  const points: ChartPoint[] = [];
  for (const r of runs.reverse()) points.push({ runId: r.id, finishedAt: r.finishedAt, ...perLibrary(await memo.get(r.id), advisories) });
  return points;
}

export interface OverviewData {
  coverage: RunCoverage | null;
  rows: LibraryVersion[];
  advisories: AdvisorySummary[];
  chart: ChartPoint[];
}

export async function overviewData(
  db: Queryable,
  memo: PerRunMemo<LibraryRow[]>,
  advisories: readonly Advisory[],
  askAdvisories: (runId: number) => Promise<AdvisorySummary[]>,
): Promise<OverviewData> {
  const runId = await latestLibraryScan(db);
  if (runId === null) return { coverage: null, rows: [], advisories: [], chart: [] };
  const [coverage, rows, answer, chart] = await Promise.all([runCoverage(db, runId), memo.get(runId), askAdvisories(runId), chartSeries(db, memo, advisories, runId)]);
  return { coverage, rows: rows.map((r) => ({ ...r, ...advisoriesOf(advisories, r.library, r.version) })), advisories: answer, chart };
}

function libraryTable(library: string, rows: LibraryVersion[], runId: number): SafeHtml {
  const vendored = rows.reduce((a, r) => a + r.vendoredCopies, 0);
  const inRange = rows.filter((r) => r.affected.length > 0).reduce((a, r) => a + r.vendoredCopies, 0);
  return html`<section class="library" aria-labelledby="lib-${library}" data-library="${library}">
<h3 id="lib-${library}"><a href="${href(`/libraries/${encodeURIComponent(library)}`, { run: runId })}">${library}</a>
<span class="sub"><span data-vendored="${vendored}">${vendored} vendored ${vendored === 1 ? 'copy' : 'copies'}</span>${inRange > 0 ? html`, <strong class="hit" data-in-range="${inRange}">${inRange} in an advisory's range</strong>` : ''}</span></h3>
<div class="scroll" tabindex="0" role="region" aria-label="${library} by version"><table class="versions">
<thead><tr><th scope="col">Detected version</th><th scope="col">Vendored copies</th><th scope="col">All copies</th><th scope="col">Store paths</th><th scope="col">Advisories</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr class="${r.affected.length > 0 ? 'affected' : ''}" data-version="${r.version ?? ''}" data-affected="${r.affected.join(' ')}">
<th scope="row"><a href="${href(`/libraries/${encodeURIComponent(library)}`, { run: runId, version: r.version ? `=${r.version}` : null, unknown: r.version ? null : 'only', vendored: 'any' })}">${r.version ?? 'unknown'}</a></th>
<td class="num" data-vendored-copies="${r.vendoredCopies}">${r.vendoredCopies}</td><td class="num">${r.copies}</td><td class="num">${r.storePaths}</td>
<td>${advisoryLinks(r.affected, 'hit')}${r.cannotTell.length > 0 ? html`<span class="unknown">cannot tell: ${r.cannotTell.length}</span>` : ''}</td></tr>`,
  )}</tbody></table></div></section>`;
}

function advisoryTable(all: readonly AdvisorySummary[], runId: number): SafeHtml {
  const list = all.filter((a) => a.affected > 0 || a.cannotTell > 0);
  if (list.length === 0) return html`<p data-advisories="0">No copy in run ${runId} falls under any of the ${all.length} advisories, and none is undecided (coverage above).</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="advisories"><table class="advisories">
<caption>Advisories with copies in run ${runId}</caption>
<thead><tr><th scope="col">Advisory</th><th scope="col">Libraries</th><th scope="col">Affected copies</th><th scope="col">Cannot tell</th><th scope="col">Summary</th></tr></thead>
<tbody>${list.map(
    (a) => html`<tr data-advisory="${a.id}"><th scope="row"><a href="${href(`/advisories/${encodeURIComponent(a.id)}`, { run: runId })}">${a.id}</a>${a.aliases.length > 0 ? html`<br><span class="sub">${a.aliases.join(', ')}</span>` : ''}</th>
<td>${a.libraries.join(', ')}</td><td class="num" data-affected-count="${a.affected}">${a.affected}</td><td class="num" data-cannot-tell-count="${a.cannotTell}">${a.cannotTell}</td><td>${a.summary ?? ''}</td></tr>`,
  )}</tbody></table></div>`;
}

export function overviewPage(d: OverviewData): SafeHtml {
  if (!d.coverage) return html`<h1>Vendored copies in the cache</h1>${noRun('The overview')}`;
  const runId = d.coverage.runId;
  const byLibrary = new Map<string, LibraryVersion[]>();
  for (const r of d.rows) byLibrary.set(r.library, [...(byLibrary.get(r.library) ?? []), r]);
  const libs = [...byLibrary.keys()];
  return html`<h1>Vendored copies in the cache</h1>
${coverageBox(d.coverage)}
<section aria-labelledby="h-adv"><h2 id="h-adv">Advisories</h2>${advisoryTable(d.advisories, runId)}</section>
<section aria-labelledby="h-chart"><h2 id="h-chart">Over the last runs</h2>
<p class="sub">Vendored copies (solid) and those whose detected version is in an advisory's range (dashed), per library, over the last ${d.chart.length} completed library ${d.chart.length === 1 ? 'scan' : 'scans'}.</p>
<div id="chart" class="charts" data-chart="${dataJson({ libraries: libs, points: d.chart })}"></div></section>
<section aria-labelledby="h-libs"><h2 id="h-libs">Libraries</h2>
${libs.length === 0 ? html`<p data-libraries="0">No copy of any library in run ${runId} (coverage above).</p>` : libs.map((l) => libraryTable(l, byLibrary.get(l) ?? [], runId))}
</section>`;
}
