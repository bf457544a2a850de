// Emergency searches: the form (a YARA rule, a needle or a hex pattern, over a run or a path
// list, with the API token typed in; app.js posts it to POST /v1/searches and shows progress and
// matches as they arrive, or the compiler's error with line and column), the latest searches, and
// one search's page with its progress and matches.
import type { SearchMatchRow, SearchRow } from '../../store/searches.ts';
import { when } from '../components.ts';
import { html, type SafeHtml } from '../html.ts';

function searchRows(searches: readonly SearchRow[]): SafeHtml {
  if (searches.length === 0) return html`<p>No search yet.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="searches"><table class="searches"><caption>Latest searches</caption>
<thead><tr><th scope="col">Search</th><th scope="col">Kind</th><th scope="col">Pattern</th><th scope="col">State</th><th scope="col">Scanned</th><th scope="col">Matches</th><th scope="col">Created</th></tr></thead>
<tbody>${searches.map((s) => html`<tr><th scope="row"><a href="/searches/${s.id}">${s.id}</a></th><td>${s.kind}</td><td><code class="pattern">${s.pattern.length > 80 ? `${s.pattern.slice(0, 80)}…` : s.pattern}</code></td><td class="state ${s.state}">${s.state}</td><td class="num">${s.scanned} / ${s.total ?? '?'}</td><td class="num">${s.matches}</td><td>${when(s.createdAt)}</td></tr>`)}</tbody></table></div>`;
}

export function searchesPage(runs: readonly number[], searches: readonly SearchRow[]): SafeHtml {
  return html`<h1>Emergency search</h1>
<p>Look for a YARA rule, a literal needle or a hex pattern in every file of a run's store paths (or of the store paths you list), ahead of scheduled scans. Needs the API token (<code>VENDORSCAN_API_TOKEN</code>); it is sent with this search only and not stored.</p>
<noscript><p class="notice error">The search form needs JavaScript (it sends the token as a bearer header). Without it use <code>POST /v1/searches</code>.</p></noscript>
<form id="search-form" class="search" novalidate aria-describedby="search-status">
<fieldset><legend>What to look for</legend>
<label class="inline"><input type="radio" name="kind" value="needle" checked> needle (literal text)</label>
<label class="inline"><input type="radio" name="kind" value="hex"> hex pattern</label>
<label class="inline"><input type="radio" name="kind" value="rule"> YARA rule</label>
</fieldset>
<label for="pattern">Pattern</label>
<textarea id="pattern" name="pattern" rows="6" required spellcheck="false" aria-describedby="pattern-error"></textarea>
<p id="pattern-error" class="field-error" role="alert"></p>
<label for="scope-run">Over the store paths of</label>
<select id="scope-run" name="run">${runs.map((r, i) => html`<option value="${r}"${i === 0 ? html` selected` : ''}>run ${r}${i === 0 ? ' (latest)' : ''}</option>`)}<option value="">the store paths listed below</option></select>
<label for="paths">Store paths (one a line; used when "the store paths listed below" is chosen)</label>
<textarea id="paths" name="paths" rows="3" spellcheck="false"></textarea>
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Search</button>
</form>
<section id="search-status" class="search-status" aria-live="polite" hidden>
<h2>Search <a id="search-link" href="/searches"></a></h2>
<p><span data-live="state"></span> · <span data-live="scanned">0</span> of <span data-live="total">?</span> store paths scanned · <span data-live="matches">0</span> matches</p>
<progress id="search-progress" max="1" value="0"></progress>
<div class="scroll" tabindex="0" role="region" aria-label="matches"><table class="matches" id="search-matches"><caption>Matches so far</caption>
<thead><tr><th scope="col">Store path</th><th scope="col">File</th><th scope="col">Rule</th><th scope="col">Matched</th></tr></thead><tbody></tbody></table></div>
</section>
<section aria-labelledby="h-latest"><h2 id="h-latest">Latest searches</h2>${searchRows(searches)}</section>`;
}

/** What a match says, shortly: the first string's text and offset. */
export function matchSummary(matches: unknown): string {
  const first = Array.isArray(matches) ? (matches[0] as { strings?: { identifier?: string; offset?: number; text?: string }[] } | undefined) : undefined;
  const s = first?.strings?.[0];
  if (!s) return '';
  return `${s.identifier ?? ''} at ${s.offset ?? '?'}${s.text ? `: ${s.text.slice(0, 80)}` : ''}`;
}

export function searchPage(s: SearchRow, matches: readonly SearchMatchRow[]): SafeHtml {
  const live = s.state === 'queued' || s.state === 'running';
  return html`<h1>Search ${s.id}</h1>
<section class="progress" aria-label="progress" data-search="${s.id}"${live ? html` data-live-search="${s.id}"` : ''}>
<p>${s.kind}: <code class="pattern">${s.pattern}</code></p>
<p>State <strong data-live="state" class="state ${s.state}">${s.state}</strong> · over ${s.scope.runId !== undefined ? html`<a href="/runs/${s.scope.runId}">run ${s.scope.runId}</a>` : `${s.scope.paths ?? 0} listed store paths`} · created ${when(s.createdAt)} · first match ${when(s.firstMatchAt)}</p>
<progress max="${Math.max(s.total ?? 1, 1)}" value="${s.total === null ? 0 : s.total - s.pending}"></progress>
<dl class="counts"><div><dt>store paths</dt><dd data-live="total">${s.total ?? '?'}</dd></div><div><dt>scanned</dt><dd data-live="scanned">${s.scanned}</dd></div><div><dt>not in cache</dt><dd data-live="notInCache">${s.notInCache}</dd></div><div><dt>failed</dt><dd data-live="failed">${s.failed}</dd></div><div><dt>matches</dt><dd data-live="matches">${s.matches}</dd></div></dl>
${live ? html`<p class="sub" aria-live="polite">Updating while the search goes on; reload for the matches found since.</p>` : ''}
</section>
<section aria-labelledby="h-matches"><h2 id="h-matches">Matches</h2>
${
  matches.length === 0
    ? html`<p>No match${live ? ' yet' : ''} in the ${s.scanned} store paths scanned${s.failed + s.notInCache > 0 ? ` (${s.failed} failed, ${s.notInCache} not in cache)` : ''}.</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="matches"><table class="matches"><caption>${matches.length < s.matches ? `First ${matches.length} of ${s.matches} matches` : `${s.matches} matches`}</caption>
<thead><tr><th scope="col">Store path</th><th scope="col">File</th><th scope="col">Rule</th><th scope="col">Matched</th></tr></thead>
<tbody>${matches.map((m) => html`<tr><td class="path"><code>${m.storePath}</code></td><td class="path"><code>${m.file}</code></td><td>${m.rule}</td><td><code>${matchSummary(m.matches)}</code></td></tr>`)}</tbody></table></div>`
}</section>`;
}
