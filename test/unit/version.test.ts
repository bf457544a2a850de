// Version order as a security team means it, and the sort key the database compares agreeing
// with it for every pair.
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, parseVersionRange, satisfies, versionSortKey, VersionRangeError, type Version } from '../../signatures/version.ts';

const v = (s: string): Version => {
  const p = parseVersion(s);
  if (!p) throw new Error(`unparseable ${s}`);
  return p;
};

// Strictly ascending.
const ORDER = [
  '0.9', '1.0.0-alpha1', '1.0.0-beta.2', '1.0.0rc1', '1.0.0-rc.2', '1.0', '1.0.1', '1.1.1', '1.1.1a', '1.1.1w', '1.2',
  '1.2.4', '1.2.8', '1.3.1', '1.3.2-rc1', '1.3.2', '1.6.39', '1.6.40', '1.7.0', 'v1.7.0-1487-g842afb26f', '1.7.1',
  '1.12.0', '1.13.0', '1.13.0-372-g2245df50a', '1.13.0-1000-gabcdef1', '1.13.1', '2.0.0', '28.0.0-beta.3', '28.0.0', '120.0.6099.109', '120.0.6099.110',
];

describe('ordering', () => {
  it('orders every pair as listed, and the sort key agrees', () => {
    for (let i = 0; i < ORDER.length; i++) {
      for (let j = 0; j < ORDER.length; j++) {
        const a = v(ORDER[i]!);
        const b = v(ORDER[j]!);
        expect([ORDER[i], ORDER[j], Math.sign(compareVersions(a, b))]).toEqual([ORDER[i], ORDER[j], Math.sign(i - j)]);
        const ka = versionSortKey(a);
        const kb = versionSortKey(b);
        expect([ORDER[i], ORDER[j], Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)]).toEqual([ORDER[i], ORDER[j], Math.sign(i - j)]);
      }
    }
  });
  it('treats 1.2 and 1.2.0 as equal, and a leading v as nothing', () => {
    expect(compareVersions(v('1.2'), v('1.2.0'))).toBe(0);
    expect(versionSortKey(v('1.2'))).toBe(versionSortKey(v('1.2.0')));
    expect(compareVersions(v('v1.13.0'), v('1.13.0'))).toBe(0);
  });
  it('never reads a git-describe version as a prerelease', () => {
    const d = v('1.13.0-372-g2245df50a');
    expect(d.pre).toBeNull();
    expect(d.describe).toEqual({ commits: 372, hash: '2245df50a' });
  });
  it('returns null for what is not a version', () => {
    for (const s of ['', 'abc', '1..2', 'version 1', '1.2.3 beta']) expect(parseVersion(s)).toBeNull();
  });
});

describe('ranges', () => {
  const inRange = (r: string, s: string): boolean => satisfies(v(s), parseVersionRange(r));
  it('answers "who vendors libwebp < 1.3.2"', () => {
    expect(inRange('<1.3.2', '1.3.1')).toBe(true);
    expect(inRange('<1.3.2', '1.3.2-rc1')).toBe(true);
    expect(inRange('<1.3.2', '1.3.2')).toBe(false);
    expect(inRange('<1.3.2', '1.3.1-20-gabcdef0')).toBe(true);
  });
  it('ANDs with spaces or commas, ORs with ||, equality bare or with =', () => {
    expect(inRange('>=1.6.0 <1.6.43', '1.6.39')).toBe(true);
    expect(inRange('>=1.6.0, <1.6.43', '1.6.43')).toBe(false);
    expect(inRange('>= 1.6.0 < 1.6.43', '1.5.9')).toBe(false);
    expect(inRange('<1.3.2 || >=2.0.0', '2.1')).toBe(true);
    expect(inRange('<1.3.2 || >=2.0.0', '1.9')).toBe(false);
    expect(inRange('1.2.4', '1.2.4')).toBe(true);
    expect(inRange('=1.2', '1.2.0')).toBe(true);
    expect(inRange('>1.0 <=2.0', '2.0.0')).toBe(true);
  });
  it('names the bad part', () => {
    expect(() => parseVersionRange('')).toThrow(VersionRangeError);
    expect(() => parseVersionRange('<1.3.2 <<1')).toThrow('"<<1" in "<1.3.2 <<1" is not a comparison');
    expect(() => parseVersionRange('<1.3.2 ||')).toThrow('empty alternative');
    expect(() => parseVersionRange('~>1.2')).toThrow(/"~>1\.2"/);
  });
});
