// Markdown shaped like the nixpkgs tracking issues (#254798 libwebp, #258048 libvpx): the coverage
// line, then one `- [ ]` checkbox line per package (store path) with its attribute (or pname) and
// version, each library copy with its version, file and advisories, and the maintainers as @handles,
// ready to paste into an issue. File names and version text come from untrusted NARs: they go into
// code spans (no markup, no @-mentions) with control characters escaped; a handle that is not a
// GitHub login is printed as code, never as a mention.
import { coverageLine } from './coverage-line.ts';
import type { ExportInput, ExportRow } from './rows.ts';
import { printable } from './table.ts';

/** A code span that holds any text: a fence longer than any backtick run inside it. */
export function codeSpan(s: string): string {
  const text = printable(s);
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text === '' ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Plain text with Markdown's inline markup characters escaped. */
function mdText(s: string): string {
  return printable(s).replace(/[\\`*_[\]<>|~&@]/g, (ch) => `\\${ch}`);
}

const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

function maintainer(handle: string): string {
  return GITHUB_LOGIN.test(handle) ? `@${handle}` : codeSpan(handle);
}

function copyText(r: ExportRow): string {
  const version = r.version !== null ? mdText(r.version) : r.versionRaw !== null ? `version unknown (${codeSpan(r.versionRaw)})` : 'version unknown';
  const where = r.file ? ` in ${codeSpan(r.file)}` : '';
  const advisories = r.advisories.length > 0 ? ` (${r.advisories.map(mdText).join(', ')})` : '';
  const own = r.vendored ? '' : ' (its own package)';
  const suppressed = r.triage?.length ? ` (suppressed: ${r.triage.map((t) => mdText(t.reason)).join('; ')})` : '';
  const change = r.change ? ` **${r.change}**${r.changeNote ? ` (${mdText(r.changeNote)})` : ''}` : '';
  return `${mdText(r.library)} ${version}${where}${advisories}${own}${suppressed}${change}`;
}

function packageLine(copies: ExportRow[]): string {
  const first = copies[0]!;
  const name = codeSpan(first.attribute ?? first.pname);
  const linked = first.links.search && /^https:\/\/[^\s()<>]+$/.test(first.links.search) ? `[${name}](${first.links.search})` : name;
  const version = first.packageVersion !== null ? ` ${mdText(first.packageVersion)}` : '';
  const handles = [...new Set(copies.flatMap((c) => c.maintainers))];
  const who = handles.length > 0 ? ` — ${handles.map(maintainer).join(' ')}` : '';
  return `- [ ] ${linked}${version}: ${copies.map(copyText).join('; ')}${who}`;
}

export function formatMarkdown(input: ExportInput): string {
  const byPath = new Map<string, ExportRow[]>();
  for (const r of input.rows) {
    const list = byPath.get(r.storePath);
    if (list) list.push(r);
    else byPath.set(r.storePath, [r]);
  }
  const packages = [...byPath.values()].sort((a, b) => {
    const x = a[0]!;
    const y = b[0]!;
    return (x.attribute ?? x.pname).localeCompare(y.attribute ?? y.pname) || x.storePath.localeCompare(y.storePath);
  });
  const lines: string[] = [];
  if (input.title) lines.push(`## ${mdText(input.title)}`, '');
  lines.push(mdText(coverageLine(input.coverage)), '');
  if (packages.length === 0) lines.push('No copies.');
  else {
    const copies = input.rows.length;
    lines.push(`${packages.length} package${packages.length === 1 ? '' : 's'}, ${copies} cop${copies === 1 ? 'y' : 'ies'}:`, '');
    for (const p of packages) lines.push(packageLine(p.sort((a, b) => a.file.localeCompare(b.file) || a.library.localeCompare(b.library))));
  }
  return `${lines.join('\n')}\n`;
}
