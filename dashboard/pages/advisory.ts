// The advisory page: which packages carry a copy the advisory affects (attribute, version,
// maintainers, file, detected version, confidence, evidence), the copies whose version cannot be
// told apart, a copy-ready markdown checklist and CSV/SARIF downloads of the same rows. The rows
// are GET /v1/advisories/:id/affected's (the same decisions function); the checklist and the
// downloads are that route's own renderings.
import type { AffectedAnswer } from '../../services/decisions/answers.ts';
import { copyTable, coverageBox, errorNotice, notInBuild, pager } from '../components.ts';
import type { TextAnswer } from '../data.ts';
import { href, html, type SafeHtml } from '../html.ts';

export const ADVISORY_PAGE_SIZE = 200;

export function affectedUrl(id: string, query: Record<string, string | number | null | undefined>): string {
  return href(`/v1/advisories/${encodeURIComponent(id)}/affected`, query);
}

export function advisoryPage(runParam: string | null, offset: number, a: AffectedAnswer, markdown: TextAnswer): SafeHtml {
  const id = a.advisory.id;
  const run = a.run.runId;
  const base = `/advisories/${encodeURIComponent(id)}`;
  const refs = (a.advisory.references ?? []).filter((r) => /^https:\/\//.test(r.url));
  const download = (format: string, label: string): SafeHtml => html`<a class="button" download href="${affectedUrl(id, { run, format })}">${label}</a>`;
  return html`<h1>Advisory ${a.advisory.id}</h1>
${(a.advisory.aliases ?? []).length > 0 ? html`<p class="sub">Also known as ${(a.advisory.aliases ?? []).join(', ')}</p>` : ''}
${a.advisory.summary ? html`<p class="lead">${a.advisory.summary}</p>` : ''}
${a.advisory.details ? html`<details><summary>Details</summary><p class="prose">${a.advisory.details}</p></details>` : ''}
${refs.length > 0 ? html`<details><summary>References (${refs.length})</summary><ul>${refs.map((r) => html`<li>${r.type}: <a class="ext" href="${r.url}">${r.url}</a></li>`)}</ul></details>` : ''}
${coverageBox(a.run)}
${
  markdown.kind === 'ok'
    ? html`<p class="downloads">Download the affected rows: ${download('csv', 'CSV')} ${download('sarif', 'SARIF')} · <a href="${affectedUrl(id, { run })}">JSON</a></p>`
    : html`<p class="downloads">The affected rows as <a href="${affectedUrl(id, { run })}">JSON</a>; CSV and SARIF downloads: not available in this build.</p>`
}
${a.suppressed > 0 ? html`<p class="sub" data-suppressed="${a.suppressed}">${a.suppressed} ${a.suppressed === 1 ? 'copy' : 'copies'} hidden by the triage file.</p>` : ''}
<section aria-labelledby="h-affected"><h2 id="h-affected">Affected: <span data-total-affected="${a.totalAffected}">${a.totalAffected}</span> ${a.totalAffected === 1 ? 'copy' : 'copies'}</h2>
${
  a.totalAffected === 0
    ? html`<p>No copy in run ${run} is affected (coverage above).</p>`
    : html`${pager(base, { run: runParam }, a.totalAffected, ADVISORY_PAGE_SIZE, offset)}${copyTable(a.affected, { caption: `Copies ${a.advisory.id} affects` })}`
}</section>
<section aria-labelledby="h-cannot"><h2 id="h-cannot">Cannot tell: <span data-total-cannot-tell="${a.totalCannotTell}">${a.totalCannotTell}</span> ${a.totalCannotTell === 1 ? 'copy' : 'copies'}</h2>
<p class="sub">Copies of an affected library whose version the binary does not show, or shows in a form the advisory's range cannot be compared with.</p>
${a.totalCannotTell === 0 ? html`<p>None in run ${run} (coverage above).</p>` : copyTable(a.cannotTell, { caption: `Copies ${a.advisory.id} may affect` })}
</section>
<section aria-labelledby="h-md"><h2 id="h-md">Checklist (markdown)</h2>
${
  markdown.kind === 'ok'
    ? html`<p><button type="button" class="copy" data-copy="checklist">Copy to clipboard</button> <span class="copied" role="status" aria-live="polite"></span></p>
<label class="sr-only" for="checklist">Markdown checklist</label><textarea id="checklist" readonly rows="12">${markdown.body}</textarea>`
    : markdown.kind === 'absent'
      ? notInBuild('The markdown checklist')
      : errorNotice('Markdown checklist', markdown.status, markdown.message)
}</section>`;
}
