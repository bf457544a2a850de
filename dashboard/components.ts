// Pieces every page shows the same way: a run's coverage (beside every answer, so "none" is never
// said without what was covered), a table of copies with links to search.nixos.org and Hydra,
// pagination, and a notice for data this build cannot give.
import type { RunCoverage } from '../store/coverage.ts';
import { MAX_OFFSET_SKIP, offsetSkip } from '../store/queries.ts';
import type { CopyRow } from './data.ts';
import { href, html, type SafeHtml } from './html.ts';

export function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}

export function coverageBox(c: RunCoverage, heading = 'Coverage'): SafeHtml {
  const scope = c.scope.channel ? `channel ${c.scope.channel}` : c.scope.label;
  return html`<section class="coverage${c.complete ? '' : ' incomplete'}" aria-label="${heading}" data-run="${c.runId}">
<h2>${heading}: <a href="/runs/${c.runId}">run ${c.runId}</a></h2>
<p>${scope}${c.scope.revision ? html`, revision <code>${c.scope.revision}</code>` : ''} · ${c.state}${c.finishedAt ? html`, finished ${when(c.finishedAt)}` : ''} · ruleset <code>${c.rulesetDigest.slice(0, 12)}</code></p>
<dl class="counts">
<div><dt>store paths</dt><dd data-count="total">${c.total}</dd></div>
<div><dt>scanned</dt><dd data-count="scanned">${c.scanned}</dd></div>
<div><dt>reused unchanged</dt><dd data-count="reused">${c.reused}</dd></div>
<div><dt>not in cache</dt><dd data-count="notInCache">${c.notInCache}</dd></div>
<div><dt>failed</dt><dd data-count="failed">${c.failed}</dd></div>
${c.pending ? html`<div><dt>pending</dt><dd data-count="pending">${c.pending}</dd></div>` : ''}
</dl>
${c.incomplete ? html`<p class="warn" role="note"><strong>Incomplete answer:</strong> ${c.incomplete.replace(/^incomplete: /, '')}.</p>` : ''}
</section>`;
}

/** Where a page has no run to answer from: says so, instead of an empty answer. */
export function noRun(what: string): SafeHtml {
  return html`<section class="notice" role="status"><h2>No completed library scan yet</h2><p>${what} needs a completed library scan. Start one with <code>POST /v1/scans</code> or <code>vendorscan scan</code>; <a href="/runs">runs</a> shows those under way.</p></section>`;
}

export function notInBuild(what: string): SafeHtml {
  return html`<section class="notice" role="status"><p><strong>${what}: not available in this build.</strong> No number is shown rather than a guessed one.</p></section>`;
}

export function errorNotice(what: string, status: number, message: string): SafeHtml {
  return html`<section class="notice error" role="alert"><p><strong>${what}</strong> (HTTP ${status}): ${message}</p></section>`;
}

/** Only https links leave the page (a stored link is data, and could say javascript:). */
function safeLink(url: string | null | undefined): string | null {
  return url && /^https:\/\//.test(url) ? url : null;
}

/** The package column: name and version, the attribute with its links where attribution knows it. */
export function packageCell(c: CopyRow): SafeHtml {
  const links = { search: safeLink(c.links?.search), hydra: safeLink(c.links?.hydra) };
  return html`<span class="pkg">${c.pname}${c.packageVersion ? html` <span class="ver">${c.packageVersion}</span>` : ''}</span>
${c.attribute ? html`<br><code class="attr">${c.attribute}</code>` : ''}
${links.search ? html` <a class="ext" href="${links.search}">search.nixos.org</a>` : ''}${links.hydra ? html` <a class="ext" href="${links.hydra}">Hydra</a>` : ''}
${c.maintainers && c.maintainers.length > 0 ? html`<br><span class="maint">${c.maintainers.join(', ')}</span>` : ''}`;
}

export function versionCell(c: CopyRow): SafeHtml {
  if (c.version) return html`<span class="ver">${c.version}</span>`;
  return html`<span class="unknown">unknown</span>${c.versionRaw ? html` <code>${c.versionRaw}</code>` : ''}`;
}

export function advisoryLinks(ids: readonly string[], cls: string): SafeHtml {
  return html`${ids.map((id) => html`<a class="adv ${cls}" href="/advisories/${encodeURIComponent(id)}">${id}</a> `)}`;
}

/** A table of copies; `marks` gives each row's advisories (affected / cannot tell). */
export function copyTable(rows: readonly CopyRow[], opts: { caption: string; marks?: (c: CopyRow) => { affected: string[]; cannotTell: string[] }; sortLinks?: (key: string, label: string) => SafeHtml }): SafeHtml {
  const th = (key: string, label: string): SafeHtml => (opts.sortLinks ? opts.sortLinks(key, label) : html`<th scope="col">${label}</th>`);
  return html`<div class="scroll" tabindex="0" role="region" aria-label="${opts.caption}"><table class="copies">
<caption>${opts.caption}</caption>
<thead><tr>${th('package', 'Package')}<th scope="col">Store path</th><th scope="col">File</th>${th('version', 'Detected version')}${th('confidence', 'Confidence')}<th scope="col">Evidence</th><th scope="col">Vendored</th><th scope="col">Advisories</th></tr></thead>
<tbody>${rows.map((c) => {
    const m = opts.marks ? opts.marks(c) : { affected: c.advisories ?? [], cannotTell: [] };
    return html`<tr class="${m.affected.length > 0 ? 'affected' : ''}" data-store-path="${c.storePath}" data-affected="${m.affected.join(' ')}">
<td>${packageCell(c)}</td><td class="path"><code>${c.storePath}</code></td><td class="path"><code>${c.file}</code></td><td>${versionCell(c)}</td>
<td><span class="conf ${c.confidence}">${c.confidence}</span></td><td>${c.evidence}${c.linkage === 'built-against' ? html`<br><span class="linkage">built against it</span>` : ''}</td>
<td>${c.vendored ? 'vendored' : 'own package'}</td>
<td>${advisoryLinks(m.affected, 'hit')}${m.cannotTell.length > 0 ? html`<span class="unknown">cannot tell:</span> ${advisoryLinks(m.cannotTell, 'maybe')}` : ''}</td></tr>`;
  })}</tbody></table></div>`;
}

/** Previous/next links and the rows shown; `nextAfter`: the next link's parameters when the page continues by keyset instead of offset. */
export function pager(base: string, query: Record<string, string | number | null | undefined>, total: number, limit: number, offset: number, nextAfter: Record<string, string | number> | null = null): SafeHtml {
  if (total <= limit && offset === 0) return html`<p class="pager">${total} ${total === 1 ? 'row' : 'rows'}</p>`;
  // An offset page reads every row it skips (from the end past the middle): past MAX_OFFSET_SKIP the
  // API refuses it, so deep in a long answer "previous" becomes "first page" (keyset pages go forward).
  const back = Math.max(0, offset - limit);
  const skip = offsetSkip(back, limit, total);
  const prev =
    offset <= 0
      ? ''
      : skip <= MAX_OFFSET_SKIP
        ? html`<a rel="prev" href="${href(base, { ...query, offset: back })}">← previous</a>`
        : html`<a rel="first" href="${href(base, { ...query, offset: 0 })}">← first page</a>`;
  const next = offset + limit < total ? html`<a rel="next" href="${href(base, { ...query, ...(nextAfter ?? { offset: offset + limit }) })}">next →</a>` : '';
  return html`<nav class="pager" aria-label="pages">${prev} <span>rows ${Math.min(offset + 1, total)}–${Math.min(offset + limit, total)} of ${total}</span> ${next}</nav>`;
}
