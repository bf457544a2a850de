// The dashboard's escaping and its reading of the library page's query: untrusted text (file
// names, package names, rule text) never becomes markup, and a bad filter names the parameter.
import { describe, expect, it } from 'vitest';
import { escapeHtml, href, html, layout, raw } from '../../dashboard/html.ts';
import { libraryFilters } from '../../dashboard/pages/library.ts';
import { packageCell, pager } from '../../dashboard/components.ts';
import type { CopyRow } from '../../dashboard/data.ts';

describe('html', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const file = `"><img src=x onerror=alert(1)>'&\``;
    const out = html`<td title="${file}">${file}</td>`.value;
    expect(out).toBe('<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;&#96;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;&#96;</td>');
    expect(escapeHtml('<script>')).toBe('&lt;script&gt;');
  });

  it('keeps markup made by html and raw, escapes arrays item by item, drops null and false', () => {
    const rows = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${rows}</ul>${null}${false}${undefined}${0}`.value).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0');
    expect(html`${raw('<br>')}`.value).toBe('<br>');
  });

  it('encodes query values in links, leaving out empty ones', () => {
    expect(href('/libraries/libpng', { version: '<1.6.40 >=1', run: 3, sort: null, order: '' })).toBe('/libraries/libpng?version=%3C1.6.40+%3E%3D1&run=3');
  });

  it('puts a title from the store into the layout as text', () => {
    const page = layout({ title: '</title><script>x</script>', current: '/', body: html`<p>ok</p>` });
    expect(page).toContain('<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt; · vendorscan</title>');
    expect(page).not.toMatch(/<script>x/);
  });

  it('links to search.nixos.org and Hydra only over https', () => {
    const copy: Omit<CopyRow, 'attribute' | 'links'> = { storePath: '/nix/store/x-a-1', pname: 'a', packageVersion: '1', file: 'f', library: 'libpng', version: null, versionRaw: null, confidence: 'high', evidence: 'e', vendored: true, linkage: 'copy', advisories: [], maintainers: [], homepage: null, position: null };
    const good = packageCell({ ...copy, attribute: 'a', links: { search: 'https://search.nixos.org/packages?query=a', hydra: 'https://hydra.nixos.org/job/nixpkgs/trunk/a' } }).value;
    expect(good).toContain('href="https://search.nixos.org/packages?query=a"');
    expect(good).toContain('href="https://hydra.nixos.org/job/nixpkgs/trunk/a"');
    const bad = packageCell({ ...copy, attribute: 'a', links: { search: 'javascript:alert(1)', hydra: null } }).value;
    expect(bad).not.toContain('href');
  });
});

describe('library page query', () => {
  it('reads ranges, confidences (repeated or comma-separated), sort and order', () => {
    const f = libraryFilters({ version: '>=1.6.0 <1.6.43', confidence: ['high', 'low'], sort: 'version', order: 'desc', offset: '200', vendored: 'any' });
    expect(f).toMatchObject({ version: '>=1.6.0 <1.6.43', confidence: ['high', 'low'], sort: 'version', descending: true, offset: 200, vendored: 'any', unknown: 'include' });
    expect(libraryFilters({ confidence: 'high,medium' })).toMatchObject({ confidence: ['high', 'medium'] });
  });

  it('names the parameter that is wrong', () => {
    expect(libraryFilters({ version: '<<1' })).toMatchObject({ parameter: 'version' });
    expect(libraryFilters({ confidence: 'certain' })).toMatchObject({ parameter: 'confidence', message: '"certain" is not one of high, medium, low' });
    expect(libraryFilters({ sort: 'DROP TABLE' })).toMatchObject({ parameter: 'sort' });
    expect(libraryFilters({ offset: '-1' })).toMatchObject({ parameter: 'offset' });
    expect(libraryFilters({ vendored: 'maybe' })).toMatchObject({ parameter: 'vendored' });
  });
});

describe('pager', () => {
  const links = (total: number, offset: number): string => pager('/libraries/libwebp', { run: 1 }, total, 100, offset).toString();
  it('links back by offset while the page it leads to reads few rows past', () => {
    expect(links(200_000, 5_000)).toMatch(/rel="prev" href="\/libraries\/libwebp\?run=1&amp;offset=4900"/);
    // Near the end a page is read from the end: cheap again.
    expect(links(200_000, 199_000)).toMatch(/rel="prev"/);
  });
  it('offers the first page instead where an offset page would read past MAX_OFFSET_SKIP rows (the API refuses it)', () => {
    const deep = links(200_000, 100_000);
    expect(deep).not.toMatch(/rel="prev"/);
    expect(deep).toMatch(/rel="first" href="\/libraries\/libwebp\?run=1&amp;offset=0">← first page/);
  });
});
