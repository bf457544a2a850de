// Runs: every run with its scope, state and progress (live while it runs: app.js polls
// GET /v1/scans/:id), and one run's page with its coverage and the store paths that failed or
// were not in the cache, each with its reason.
import type { RunCoverage } from '../../store/coverage.ts';
import type { RunPathStatus, RunProgress, RunRow } from '../../store/runs.ts';
import { coverageBox, when } from '../components.ts';
import { html, type SafeHtml } from '../html.ts';

function progressBar(c: { total: number; pending: number }): SafeHtml {
  const done = c.total - c.pending;
  return html`<progress max="${Math.max(c.total, 1)}" value="${done}" data-live="bar">${done} of ${c.total}</progress>`;
}

const LIVE = new Set(['queued', 'running']);

export function runsPage(runs: readonly { run: RunRow; coverage: RunCoverage | null }[]): SafeHtml {
  if (runs.length === 0) return html`<h1>Runs</h1><p>No run yet. Start one with <code>POST /v1/scans</code> (see <a href="/docs">the API</a>) or <code>vendorscan scan</code>.</p>`;
  return html`<h1>Runs</h1>
<div class="scroll" tabindex="0" role="region" aria-label="runs"><table class="runs"><caption>Runs, newest first</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Scope</th><th scope="col">State</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Progress</th><th scope="col">Scanned</th><th scope="col">Reused</th><th scope="col">Not in cache</th><th scope="col">Failed</th></tr></thead>
<tbody>${runs.map(({ run, coverage: c }) => {
    const live = LIVE.has(run.state);
    return html`<tr data-run="${run.id}"${live ? html` data-live-run="${run.id}"` : ''}>
<th scope="row"><a href="/runs/${run.id}">${run.id}</a></th><td>${run.source.label}${run.kind === 'adhoc-scan' ? html` <span class="sub">(ad-hoc)</span>` : ''}</td>
<td data-live="state" class="state ${run.state}">${run.state}</td><td class="when">${when(run.startedAt)}</td><td class="when" data-live="finishedAt">${when(run.finishedAt)}</td>
${
  c
    ? html`<td>${progressBar(c)}</td><td class="num" data-live="scanned">${c.scanned}</td><td class="num" data-live="skipped">${c.reused}</td><td class="num" data-live="notInCache">${c.notInCache}</td><td class="num" data-live="failed">${c.failed}</td>`
    : html`<td colspan="5" class="sub">see the run's page</td>`
}</tr>`;
  })}</tbody></table></div>`;
}

export function runPage(p: RunProgress, coverage: RunCoverage | null, failures: readonly { storePath: string; status: RunPathStatus; reason: string | null }[]): SafeHtml {
  const live = LIVE.has(p.state);
  const total = p.total ?? p.scanned + p.skipped + p.notInCache + p.failed + p.pending;
  return html`<h1>Run ${p.id}: ${p.source.label}</h1>
<section class="progress" aria-label="progress" data-run="${p.id}"${live ? html` data-live-run="${p.id}"` : ''}>
<p>State <strong data-live="state" class="state ${p.state}">${p.state}</strong> · created ${when(p.createdAt)} · started ${when(p.startedAt)} · finished <span data-live="finishedAt">${when(p.finishedAt)}</span></p>
${progressBar({ total, pending: p.pending })}
<dl class="counts">
<div><dt>store paths</dt><dd data-live="total">${p.total ?? 'being read'}</dd></div>
<div><dt>scanned</dt><dd data-live="scanned">${p.scanned}</dd></div>
<div><dt>reused unchanged</dt><dd data-live="skipped">${p.skipped}</dd></div>
<div><dt>not in cache</dt><dd data-live="notInCache">${p.notInCache}</dd></div>
<div><dt>failed</dt><dd data-live="failed">${p.failed}</dd></div>
<div><dt>pending</dt><dd data-live="pending">${p.pending}</dd></div>
<div><dt>findings</dt><dd data-live="findings">${p.findings}</dd></div>
<div><dt>NAR bytes</dt><dd data-live="narBytes">${p.narBytes}</dd></div>
</dl>
${p.error ? html`<p class="notice error" role="alert">${p.error}</p>` : ''}
${live ? html`<p class="sub" aria-live="polite" data-live="note">Updating while the run goes on; reload for the failure list.</p>` : ''}
</section>
${coverage && !live ? coverageBox(coverage) : ''}
<section aria-labelledby="h-fail"><h2 id="h-fail">Failed or not in cache</h2>
${
  failures.length === 0
    ? html`<p>None of the ${total} store paths failed or was missing from the cache${live ? ' so far' : ''}.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="failures"><table class="failures"><caption>First ${failures.length} store paths that failed or were not in the cache</caption>
<thead><tr><th scope="col">Store path</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>
<tbody>${failures.map((f) => html`<tr><td class="path"><code>${f.storePath}</code></td><td>${f.status}</td><td>${f.reason ?? ''}</td></tr>`)}</tbody></table></div>`
}</section>`;
}
