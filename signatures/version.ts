// Versions as vendored libraries carry them, ordered the way a security team means:
// 1.2 == 1.2.0; prereleases (1.3.2-rc1, 1.3.2rc1) before their release; git-describe versions
// (1.13.0-372-g2245df50a) after their base release and before the next, by commit count; OpenSSL
// letters (1.1.1w) after 1.1.1. Unknown versions are null and belong to no range.
import { VendorscanError } from '../errors/errors.ts';

export interface Version {
  raw: string;
  release: number[];
  /** OpenSSL-style letter suffix: 1.1.1w → "w". */
  letter: string | null;
  /** Prerelease identifiers: rc1 → ["rc", 1]. */
  pre: (string | number)[] | null;
  describe: { commits: number; hash: string } | null;
}

const PATTERN =
  /^v?(\d+(?:\.\d+)*)([a-z])?(?:[-.]?(alpha|beta|pre|rc|nightly|a|b)\.?(\d+)?|-(\d+)(?=$|[+-]))?(?:-(\d+)-g([0-9a-f]{4,40}))?(?:\+[0-9A-Za-z.-]+)?$/i;

/** Numbers wider than this cannot be ordered by the fixed-width sort key: such a version is unknown. */
const MAX_DIGITS = 10;

export function parseVersion(s: string): Version | null {
  const m = PATTERN.exec(s.trim());
  if (!m) return null;
  const numbers = [m[1] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''].flatMap((x) => x.split('.'));
  if (numbers.some((n) => n.length > MAX_DIGITS)) return null;
  const release = (m[1] ?? '').split('.').map(Number);
  const tag = m[3]?.toLowerCase();
  // A bare numeric prerelease (Electron's and semver's "22.0.0-0") has the empty tag: before any named one.
  const pre = tag ? [tag === 'a' ? 'alpha' : tag === 'b' ? 'beta' : tag, Number(m[4] ?? 0)] : m[5] !== undefined ? ['', Number(m[5])] : null;
  return {
    raw: s,
    release,
    letter: m[2]?.toLowerCase() ?? null,
    pre,
    describe: m[6] ? { commits: Number(m[6]), hash: m[7] ?? '' } : null,
  };
}

function cmp(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const c = cmp(a.release[i] ?? 0, b.release[i] ?? 0);
    if (c !== 0) return c;
  }
  const letter = cmp(a.letter ?? '', b.letter ?? '');
  if (letter !== 0) return letter;
  // A prerelease comes before its release.
  if (a.pre && !b.pre) return -1;
  if (!a.pre && b.pre) return 1;
  if (a.pre && b.pre) {
    const c = cmp(a.pre[0] ?? '', b.pre[0] ?? '') || cmp(a.pre[1] ?? 0, b.pre[1] ?? 0);
    if (c !== 0) return c;
  }
  // A git-describe version comes after its base, by commits since it.
  return cmp(a.describe?.commits ?? 0, b.describe?.commits ?? 0);
}

/**
 * Text that sorts (byte-wise, as SQL "C" collation or JS <) exactly like compareVersions:
 * `R L T`, where
 * - R: release components, trailing zeros dropped (1.2 == 1.2.0), each 10 digits, joined by '.';
 *   then a space, which is below '.', so a shorter release sorts before a longer one it prefixes;
 * - L: the OpenSSL letter, or '0' (below 'a') when there is none: compared right after the release;
 * - T: '!' + tag (8 wide) + number for a prerelease, ',' for none ('!' < ','), then '-' + commits
 *   for a git-describe suffix (a longer key with the same prefix sorts after).
 * Stored in findings.version_key: a change here must bump KEY_FORMAT (store/migrate.ts rewrites keys).
 */
export function versionSortKey(v: Version): string {
  const parts = [...v.release];
  while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
  const num = (n: number): string => String(n).padStart(MAX_DIGITS, '0');
  let key = `${parts.map(num).join('.')} ${v.letter ?? '0'}`;
  key += v.pre ? `!${String(v.pre[0]).padEnd(8, ' ')}${num(Number(v.pre[1] ?? 0))}` : ',';
  // Zero commits since the tag is the tag itself (compareVersions treats them as equal).
  if (v.describe && v.describe.commits > 0) key += `-${num(v.describe.commits)}`;
  return key;
}

/** The format of versionSortKey's output; stored keys of an older format are recomputed at migration. */
export const VERSION_KEY_FORMAT = 3;

export class VersionRangeError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_VERSION_RANGE', 'usage', message, options);
  }
}

export type Op = '<' | '<=' | '>' | '>=' | '=';

export interface VersionRange {
  raw: string;
  /** OR of ANDs. */
  alternatives: { op: Op; version: Version }[][];
}

export function parseVersionRange(s: string): VersionRange {
  const raw = s.trim();
  if (raw === '') throw new VersionRangeError('empty version range');
  const alternatives = raw.split('||').map((alt) => {
    const parts = alt
      .replace(/,/g, ' ')
      .replace(/(<=|>=|<|>|=)\s+/g, '$1')
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '');
    if (parts.length === 0) throw new VersionRangeError(`empty alternative in "${raw}"`);
    return parts.map((p) => {
      const m = /^(<=|>=|<|>|==?)?(.+)$/.exec(p);
      const op = (m?.[1] === '==' ? '=' : m?.[1] ?? '=') as Op;
      const version = parseVersion(m?.[2] ?? '');
      if (!version) throw new VersionRangeError(`"${p}" in "${raw}" is not a comparison such as <1.3.2 or >=1.6.0`);
      return { op, version };
    });
  });
  return { raw, alternatives };
}

export function satisfies(v: Version, range: VersionRange): boolean {
  return range.alternatives.some((and) =>
    and.every(({ op, version }) => {
      const c = compareVersions(v, version);
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c === 0;
    }),
  );
}
