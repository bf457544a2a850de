// HTML with strict escaping: store paths, file names, rule text, package names and query strings
// are untrusted, so every value put into a page is escaped unless it is already markup made here
// (a SafeHtml, which only this module's `html` and `raw` produce). One layout for every page.

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: the literal parts are markup, every interpolated value is escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup made by this service from constants only (never from a request or the store). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A URL with its query: parameters are encoded (the result is still escaped where it is put). */
export function href(path: string, query: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** JSON for a data-* attribute: escaped like any attribute value. */
export function dataJson(value: unknown): string {
  return JSON.stringify(value);
}

export const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/diff', label: 'Diff' },
  { path: '/runs', label: 'Runs' },
  { path: '/searches', label: 'Search' },
  { path: '/docs', label: 'API' },
] as const;

export function layout(page: { title: string; current: string; body: SafeHtml; scripts?: string[] }): string {
  const scripts = ['/assets/app.js', ...(page.scripts ?? [])];
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · vendorscan</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/app.css">
${scripts.map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">vendorscan</a>
<nav aria-label="main"><ul>${NAV.map((n) => html`<li><a href="${n.path}"${n.path === page.current ? raw(' aria-current="page"') : ''}>${n.label}</a></li>`)}</ul></nav>
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
<footer><p>Vendored copies of risky libraries in a Nix binary cache. Every number comes from the results store; a run's coverage is shown with it.</p></footer>
</body>
</html>`.value}`;
}
