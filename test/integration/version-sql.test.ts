// Range queries in SQL equal `satisfies` on the same data: generated versions of every grammar
// the readers produce are stored with their sort keys in a real (embedded) PostgreSQL, each
// generated range is evaluated by the same SQL comparisons the vendors query builds (vendorsSql),
// and the rows it selects are exactly those `satisfies` selects.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVersion, satisfies, versionSortKey, type Op, type Version, type VersionRange } from '../../signatures/version.ts';
import { freshPGlite, type TestDatabase } from '../helpers/databases.ts';

let t: TestDatabase;
const texts = fc.sample(
  fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
      fc.option(fc.constantFrom('a', 'w'), { nil: null }),
      fc.option(fc.tuple(fc.constantFrom('-rc', '-beta.', '-', 'a'), fc.integer({ min: 0, max: 5 })), { nil: null }),
      fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
    )
    .map(([r, l, p, d]) => `${r.join('.')}${l ?? ''}${p ? `${p[0]}${p[1]}` : ''}${d !== null ? `-${d}-gabcdef0` : ''}`),
  { numRuns: 600, seed: 42 },
);
const versions: Version[] = [...new Set(texts)].map((s) => parseVersion(s)).filter((v): v is Version => v !== null);

beforeAll(async () => {
  t = await freshPGlite();
  await t.db.exec('CREATE TABLE v (raw text PRIMARY KEY, version_key text COLLATE "C" NOT NULL)');
  await t.db.query('INSERT INTO v (raw, version_key) SELECT * FROM unnest($1::text[], $2::text[])', [versions.map((v) => v.raw), versions.map(versionSortKey)]);
}, 60_000);
afterAll(() => t?.drop());

describe('version ranges in SQL', () => {
  it(`select exactly what satisfies selects (${versions.length} stored versions)`, async () => {
    const ops: Op[] = ['<', '<=', '>', '>=', '='];
    const ranges = fc.sample(
      fc.array(fc.array(fc.tuple(fc.constantFrom(...ops), fc.constantFrom(...versions)), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }),
      { numRuns: 150, seed: 7 },
    );
    for (const alternatives of ranges) {
      const range: VersionRange = { raw: 'generated', alternatives: alternatives.map((and) => and.map(([op, version]) => ({ op, version }))) };
      // The same shape vendorsSql builds: OR of ANDs of version_key comparisons, keys as parameters.
      const params: string[] = [];
      const where = range.alternatives
        .map((and) => `(${and.map((c) => `version_key ${c.op} $${params.push(versionSortKey(c.version))}`).join(' AND ')})`)
        .join(' OR ');
      const { rows } = await t.db.query<{ raw: string }>(`SELECT raw FROM v WHERE ${where} ORDER BY raw`, params);
      const expected = versions.filter((v) => satisfies(v, range)).map((v) => v.raw).sort();
      expect([alternatives.map((and) => and.map(([op, v]) => `${op}${v.raw}`).join(' ')).join(' || '), rows.map((r) => r.raw).sort()]).toEqual([
        alternatives.map((and) => and.map(([op, v]) => `${op}${v.raw}`).join(' ')).join(' || '),
        expected,
      ]);
    }
  }, 120_000);
});
