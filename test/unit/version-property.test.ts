// One definition of version order: over generated versions of every grammar the readers produce
// (releases, OpenSSL letters, prereleases, numeric prereleases, git-describe, combinations), the
// SQL sort key orders exactly like compareVersions, and a range query on keys equals `satisfies`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// A fixed seed keeps CI repeatable; FC_SEED=random (or a number) explores further by hand.
if (process.env['FC_SEED'] !== 'random') fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });
import { compareVersions, parseVersion, satisfies, versionSortKey, type Op, type Version, type VersionRange } from '../../signatures/version.ts';

const num = fc.integer({ min: 0, max: 2_000_000 });
const release = fc.array(num, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
const letter = fc.option(fc.constantFrom('a', 'g', 'w', 'z'), { nil: null });
const pre = fc.option(
  fc.tuple(fc.constantFrom('-alpha', '-beta.', 'rc', '-rc.', '-pre', '-nightly.', '-', 'a', 'b'), fc.integer({ min: 0, max: 99_999_999 })).map(([t, n]) => `${t}${n}`),
  { nil: null },
);
const describeSuffix = fc.option(
  fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.stringMatching(/^[0-9a-f]{7,12}$/)).map(([c, h]) => `-${c}-g${h || 'abcdef0'}`),
  { nil: null },
);
const versionText = fc.tuple(fc.boolean(), release, letter, pre, describeSuffix).map(([v, r, l, p, d]) => `${v ? 'v' : ''}${r}${l ?? ''}${p ?? ''}${d ?? ''}`);
const version = versionText.map((s) => parseVersion(s)).filter((v): v is Version => v !== null);

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const keyCompare = (a: Version, b: Version): number => {
  const ka = versionSortKey(a);
  const kb = versionSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

describe('version order, generated', () => {
  it('parses every generated version', () => {
    fc.assert(fc.property(versionText, (s) => parseVersion(s) !== null), { numRuns: 2000 });
  });

  it('sort key order equals compareVersions for every pair', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect([a.raw, b.raw, sign(keyCompare(a, b))]).toEqual([a.raw, b.raw, sign(compareVersions(a, b))]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees on near pairs: same release, differing only in letter, prerelease or describe', () => {
    const near = fc.tuple(release, letter, pre, describeSuffix, letter, pre, describeSuffix).map(([r, l1, p1, d1, l2, p2, d2]) => [parseVersion(`${r}${l1 ?? ''}${p1 ?? ''}${d1 ?? ''}`), parseVersion(`${r}${l2 ?? ''}${p2 ?? ''}${d2 ?? ''}`)] as const);
    fc.assert(
      fc.property(near, ([a, b]) => {
        if (!a || !b) return;
        expect([a.raw, b.raw, sign(keyCompare(a, b))]).toEqual([a.raw, b.raw, sign(compareVersions(a, b))]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('a range over keys (as SQL evaluates it) selects exactly what satisfies selects', () => {
    const ops: Op[] = ['<', '<=', '>', '>=', '='];
    const cmp = fc.tuple(fc.constantFrom(...ops), version);
    const range = fc.array(fc.array(cmp, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }).map((alternatives): VersionRange => ({ raw: 'generated', alternatives: alternatives.map((and) => and.map(([op, v]) => ({ op, version: v }))) }));
    const byKey = (v: Version, r: VersionRange): boolean =>
      r.alternatives.some((and) =>
        and.every(({ op, version: bound }) => {
          const c = keyCompare(v, bound);
          return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c === 0;
        }),
      );
    fc.assert(
      fc.property(range, fc.array(version, { minLength: 1, maxLength: 20 }), (r, vs) => {
        for (const v of vs) expect([v.raw, byKey(v, r)]).toEqual([v.raw, satisfies(v, r)]);
      }),
      { numRuns: 3000 },
    );
  });

  it('the cases the issue names', () => {
    const pairs: [string, string][] = [
      ['1.1.1-5-gabcdef0', '1.1.1w'],
      ['1.0.0-rc1', '1.0.0-rc1-5-gabcdef0'],
      ['1.1.1w', '1.1.1.1'],
      ['22.0.0-0', '22.0.0-alpha.1'],
      ['27.0.0-beta.2', '27.0.0'],
    ];
    // A git-describe version 0 commits past its tag is the tag (found by this test with a random seed).
    const tag = parseVersion('1.7.0');
    const same = parseVersion('1.7.0-0-g842afb26f');
    expect(tag && same && [compareVersions(tag, same), keyCompare(tag, same)]).toEqual([0, 0]);
    for (const [lo, hi] of pairs) {
      const a = parseVersion(lo);
      const b = parseVersion(hi);
      expect(a, lo).not.toBeNull();
      expect(b, hi).not.toBeNull();
      if (!a || !b) continue;
      expect([lo, hi, compareVersions(a, b) < 0]).toEqual([lo, hi, true]);
      expect([lo, hi, keyCompare(a, b) < 0]).toEqual([lo, hi, true]);
    }
  });
});
