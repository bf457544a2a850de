// The diff page: what appeared, went away or changed between two library scans (by default the
// last two completed ones), and which copies became or stopped being affected. The rows are
// GET /v1/diff's (the same decisions function; every copy, vendored or not).
import type { DiffAnswer } from '../../services/decisions/answers.ts';
import { advisoryLinks, copyTable, coverageBox, packageCell, versionCell } from '../components.ts';
import { html, type SafeHtml } from '../html.ts';

function runPicker(runs: readonly number[], from: number | null, to: number | null): SafeHtml {
  const options = (current: number | null): SafeHtml[] => runs.map((r) => html`<option value="${r}"${r === current ? html` selected` : ''}>run ${r}</option>`);
  return html`<form class="filters" method="get" action="/diff" aria-label="choose runs">
<label>From <select name="from">${options(from)}</select></label>
<label>To <select name="to">${options(to)}</select></label>
<button type="submit">Compare</button></form>`;
}

function affectedTable(rows: DiffAnswer['newlyAffected'], caption: string, id: string): SafeHtml {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="${caption}"><table class="copies" id="${id}"><caption>${caption}</caption>
<thead><tr><th scope="col">Package</th><th scope="col">Store path</th><th scope="col">File</th><th scope="col">Library</th><th scope="col">Detected version</th><th scope="col">Advisories</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-store-path="${r.copy.storePath}"><td>${packageCell(r.copy)}</td><td class="path"><code>${r.copy.storePath}</code></td><td class="path"><code>${r.copy.file}</code></td><td>${r.copy.library}</td><td>${versionCell(r.copy)}</td><td>${advisoryLinks(r.advisories, 'hit')}</td></tr>`)}</tbody></table></div>`;
}

function section(id: string, title: string, count: number, body: () => SafeHtml, none: string): SafeHtml {
  return html`<section aria-labelledby="h-${id}" data-section="${id}"><h2 id="h-${id}">${title}: <span data-count="${count}">${count}</span></h2>${count === 0 ? html`<p>${none}</p>` : body()}</section>`;
}

export function diffPage(runs: readonly number[], from: number | null, to: number | null, d: DiffAnswer | null): SafeHtml {
  const head = html`<h1>What changed between two runs</h1>${runPicker(runs, from, to)}`;
  if (d === null) return html`${head}<section class="notice" role="status"><p>A diff needs two completed library scans; ${runs.length === 0 ? 'there is none yet' : `there is only run ${runs[0]}`}.</p></section>`;
  const both = `in runs ${d.from.runId} and ${d.to.runId} (coverage above)`;
  return html`${head}
<div class="pair">${coverageBox(d.from, 'From')}${coverageBox(d.to, 'To')}</div>
${d.suppressed > 0 ? html`<p class="sub" data-suppressed="${d.suppressed}">${d.suppressed} ${d.suppressed === 1 ? 'copy' : 'copies'} hidden by the triage file.</p>` : ''}
${section('appeared', 'Appeared', d.appeared.length, () => copyTable(d.appeared, { caption: `Copies in run ${d.to.runId} that run ${d.from.runId} did not have` }), `No copy appeared ${both}.`)}
${section('disappeared', 'Went away', d.disappeared.length, () => copyTable(d.disappeared, { caption: `Copies of run ${d.from.runId} that run ${d.to.runId} no longer has` }), `No copy went away ${both}.`)}
${section(
  'changed',
  'Changed',
  d.changed.length,
  () => html`<div class="scroll" tabindex="0" role="region" aria-label="changed copies"><table class="copies"><caption>Copies whose detected version or evidence changed</caption>
<thead><tr><th scope="col">Package</th><th scope="col">File</th><th scope="col">Library</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>${d.changed.map((c) => html`<tr data-store-path="${c.after.storePath}"><td>${packageCell(c.after)}</td><td class="path"><code>${c.after.file}</code></td><td>${c.after.library}</td><td>${versionCell(c.before)} (${c.before.confidence})</td><td>${versionCell(c.after)} (${c.after.confidence})</td></tr>`)}</tbody></table></div>`,
  `No copy changed ${both}.`,
)}
${section('newly-affected', 'Newly affected', d.newlyAffected.length, () => affectedTable(d.newlyAffected, 'Copies an advisory now affects', 'newly-affected'), `No copy became affected ${both}.`)}
${section('no-longer-affected', 'No longer affected', d.noLongerAffected.length, () => affectedTable(d.noLongerAffected, 'Copies no advisory affects any more', 'no-longer-affected'), `No copy stopped being affected ${both}.`)}`;
}
