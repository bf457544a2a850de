// The advisories folder is data the scanner trusts: every bundled file must pass the OSV schema,
// a broken one must be refused by file and field, and ranges must mean what OSV says they mean
// (introduced, fixed, last_affected, limit, explicit versions), Chromium and Electron included.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AdvisoryError,
  BUNDLED_ADVISORIES_DIR,
  advisoriesDigest,
  advisoriesFor,
  loadAdvisories,
  validatedDigest,
  type Advisory,
  type OsvRange,
} from '../../advisories/loader.ts';

/**
 * Numeric dotted versions with an optional semver-style prerelease (1.2.3, 27.0.0-beta.2,
 * 22.0.0-0): enough for these tests, and deliberately not the project's grammar. Throws on
 * anything else (1.0.1f, say), as the real comparator does on what it cannot read.
 */
function compare(a: string, b: string): number {
  const parse = (s: string): { release: number[]; pre: string[] | null } => {
    const m = /^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.]+))?$/.exec(s);
    if (!m) throw new Error(`not a dotted version: ${s}`);
    return { release: (m[1] ?? '').split('.').map(Number), pre: m[2] === undefined ? null : m[2].split('.') };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    const d = (x.release[i] ?? 0) - (y.release[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === null || y.pre === null) return x.pre === y.pre ? 0 : x.pre === null ? 1 : -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined || q === undefined) return p === q ? 0 : p === undefined ? -1 : 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const bundled = loadAdvisories([BUNDLED_ADVISORIES_DIR]);

function ids(library: string, version: string | null, advisories: readonly Advisory[] = bundled): { affected: string[]; cannotTell: string[] } {
  const r = advisoriesFor(library, version, advisories, compare);
  return { affected: r.affected.map((a) => a.id).sort(), cannotTell: r.cannotTell.map((a) => a.id).sort() };
}

const affects = (id: string, library: string, version: string): boolean => ids(library, version).affected.includes(id);

describe('bundled advisories', () => {
  it('loads and validates every JSON file in the folder', () => {
    const files = readdirSync(BUNDLED_ADVISORIES_DIR).filter((n) => n.endsWith('.json') && n !== 'osv-schema.json');
    expect(bundled.map((a) => path.basename(a.file)).sort()).toEqual(files.sort());
    expect(bundled.length).toBeGreaterThan(20);
    expect(loadAdvisories().map((a) => a.id)).toEqual(bundled.map((a) => a.id)); // the bundled folder by default
    for (const a of bundled) {
      expect(a.references?.length, a.id).toBeGreaterThan(0);
      expect(a.affected?.length, a.id).toBeGreaterThan(0);
    }
  });

  it('holds the advisories the issue requires', () => {
    const present = new Set(bundled.map((a) => a.id));
    for (const id of ['CVE-2023-4863', 'CVE-2023-5217', 'CVE-2023-44488', 'CVE-2023-1999', 'CVE-2022-37434', 'CVE-2018-25032',
      'CVE-2022-40674', 'CVE-2024-45491', 'CVE-2024-45492', 'CVE-2019-7317', 'CVE-2023-38545', 'CVE-2022-3602', 'CVE-2018-14498']) {
      expect(present.has(id), id).toBe(true);
    }
  });
});

describe('the bundled records are checked against the schema when they change', () => {
  const bundledRecords = (): { name: string; text: string }[] =>
    readdirSync(BUNDLED_ADVISORIES_DIR)
      .filter((n) => n.endsWith('.json') && n !== 'osv-schema.json')
      .sort()
      .map((name) => ({ name, text: readFileSync(path.join(BUNDLED_ADVISORIES_DIR, name), 'utf8') }));

  it('every bundled record passes the schema, and the recorded digest is theirs', () => {
    // Another folder is always checked: a copy of the bundled records goes through the schema.
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-bundled-copy-'));
    for (const r of bundledRecords()) writeFileSync(path.join(dir, r.name), r.text);
    expect(loadAdvisories([dir]).map((a) => a.id)).toEqual(bundled.map((a) => a.id));
    rmSync(dir, { recursive: true });
    expect(advisoriesDigest(bundledRecords()), 'the bundled advisories changed: run `npm run advisories:digest`').toBe(validatedDigest());
  });

  it('an edited record no longer has the recorded digest', () => {
    const records = bundledRecords();
    const first = records[0]!;
    expect(advisoriesDigest([{ ...first, text: first.text.replace('"modified"', '"modified" ') }, ...records.slice(1)])).not.toBe(validatedDigest());
    expect(advisoriesDigest(records.slice(1))).not.toBe(validatedDigest());
  });

  it('loading the unchanged bundled folder leaves ajv unloaded; an operator\'s folder loads it', () => {
    const probe = (dirs: string): string =>
      execFileSync(process.execPath, ['--input-type=module', '-e', `
        import { createRequire } from 'node:module';
        const { loadAdvisories, BUNDLED_ADVISORIES_DIR } = await import(${JSON.stringify(path.join(BUNDLED_ADVISORIES_DIR, 'loader.ts'))});
        const n = loadAdvisories([BUNDLED_ADVISORIES_DIR, ...${dirs}]).length;
        const ajv = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ajv/'));
        console.log(n + ' ' + ajv);`], { encoding: 'utf8' }).trim();
    expect(probe('[]')).toBe(`${bundled.length} false`);
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-operator-advisories-'));
    const one = bundledRecords().find((r) => r.name.startsWith('CVE-2023-4863'))!;
    writeFileSync(path.join(dir, 'x_OPERATOR-1.json'), one.text.replace('"CVE-2023-4863"', '"x_OPERATOR-1"'));
    expect(probe(JSON.stringify([dir]))).toBe(`${bundled.length + 1} true`);
    rmSync(dir, { recursive: true });
  });
});

describe('CVE-2023-4863', () => {
  it('affects libwebp 1.3.1 but not 1.3.2', () => {
    expect(affects('CVE-2023-4863', 'libwebp', '1.3.1')).toBe(true);
    expect(affects('CVE-2023-4863', 'libwebp', '1.3.2')).toBe(false);
    expect(affects('CVE-2023-4863', 'libwebp', '0.4.0')).toBe(true);
  });

  it('affects chromium before 116.0.5845.187', () => {
    expect(affects('CVE-2023-4863', 'chromium', '116.0.5845.96')).toBe(true);
    expect(affects('CVE-2023-4863', 'chromium', '116.0.5845.187')).toBe(false);
    expect(affects('CVE-2023-4863', 'chromium', '117.0.5938.62')).toBe(false);
  });

  it('affects each Electron line up to its GHSA fixed release', () => {
    for (const [yes, no] of [['22.3.23', '22.3.24'], ['24.8.2', '24.8.3'], ['25.8.0', '25.8.1'], ['26.2.0', '26.2.1'], ['27.0.0-beta.1', '27.0.0-beta.2']] as const) {
      expect(affects('CVE-2023-4863', 'electron', yes), yes).toBe(true);
      expect(affects('CVE-2023-4863', 'electron', no), no).toBe(false);
    }
    // GHSA names no 23.x fix: 23 was already past end of life, which its own advisory says.
    expect(affects('CVE-2023-4863', 'electron', '23.3.13')).toBe(false);
    expect(affects('x_VENDORSCAN-EOL-ELECTRON-23', 'electron', '23.3.13')).toBe(true);
  });
});

describe('other bundled ranges', () => {
  it('libvpx and Chromium for CVE-2023-5217 and CVE-2023-44488', () => {
    expect(ids('libvpx', '1.13.0').affected).toEqual(expect.arrayContaining(['CVE-2023-44488', 'CVE-2023-5217']));
    expect(ids('libvpx', '1.13.1').affected).not.toContain('CVE-2023-5217');
    expect(affects('CVE-2023-5217', 'chromium', '117.0.5938.92')).toBe(true);
    expect(affects('CVE-2023-5217', 'chromium', '117.0.5938.132')).toBe(false);
    expect(affects('CVE-2023-5217', 'electron', '21.4.4')).toBe(true); // GHSA's first range starts at 0
    expect(affects('CVE-2023-5217', 'electron', '25.8.3')).toBe(true);
    expect(affects('CVE-2023-5217', 'electron', '25.8.4')).toBe(false);
    expect(affects('CVE-2023-5217', 'electron', '27.0.0-beta.7')).toBe(true);
    expect(affects('CVE-2023-5217', 'electron', '27.0.0')).toBe(false);
  });

  it('libwebp CVE-2023-1999 is fixed in 1.3.1', () => {
    expect(affects('CVE-2023-1999', 'libwebp', '1.3.0')).toBe(true);
    expect(affects('CVE-2023-1999', 'libwebp', '1.3.1')).toBe(false);
  });

  it('zlib, openssl, libcurl (last_affected) and sqlite bounds', () => {
    expect(ids('zlib', '1.2.11').affected).toEqual(['CVE-2018-25032', 'CVE-2022-37434']);
    expect(ids('zlib', '1.2.12').affected).toEqual(['CVE-2022-37434']);
    expect(ids('zlib', '1.2.13').affected).toEqual([]);
    expect(affects('CVE-2022-3602', 'openssl', '3.0.6')).toBe(true);
    expect(affects('CVE-2022-3602', 'openssl', '3.0.7')).toBe(false);
    expect(affects('CVE-2022-3602', 'openssl', '1.1.1')).toBe(false);
    expect(affects('CVE-2023-38545', 'libcurl', '7.68.0')).toBe(false);
    expect(affects('CVE-2023-38545', 'libcurl', '7.69.0')).toBe(true);
    expect(affects('CVE-2023-38545', 'libcurl', '8.3.0')).toBe(true);
    expect(affects('CVE-2023-38545', 'libcurl', '8.4.0')).toBe(false);
    expect(affects('CVE-2023-46218', 'libcurl', '8.4.0')).toBe(true); // last_affected is inclusive
    expect(affects('CVE-2023-46218', 'libcurl', '8.4.1')).toBe(false);
    expect(affects('CVE-2022-35737', 'sqlite', '1.0.11')).toBe(false);
    expect(affects('CVE-2022-35737', 'sqlite', '3.39.1')).toBe(true);
  });

  it('an OpenSSL letter release is beyond this test comparator, so it cannot tell', () => {
    const r = ids('openssl', '1.0.1f');
    expect(r.cannotTell).toContain('CVE-2014-0160');
    expect(r.affected).toEqual([]);
  });

  it('an Electron major past end of life is affected throughout, prereleases included', () => {
    expect(ids('electron', '22.3.27').affected).toContain('x_VENDORSCAN-EOL-ELECTRON-22');
    expect(ids('electron', '22.0.0-beta.1').affected).toContain('x_VENDORSCAN-EOL-ELECTRON-22');
    expect(ids('electron', '2.0.18').affected).toEqual(['CVE-2023-5217', 'x_VENDORSCAN-EOL-ELECTRON-2']);
    expect(ids('electron', '40.9.1').affected).toContain('x_VENDORSCAN-EOL-ELECTRON-40');
    expect(ids('electron', '41.0.0-alpha.1').affected.filter((id) => id.includes('EOL'))).toEqual([]);
    expect(ids('electron', '41.2.0').affected).toEqual([]);
  });

  it('an unknown version cannot be decided for any advisory of the library', () => {
    const r = ids('libwebp', null);
    expect(r.affected).toEqual([]);
    expect(r.cannotTell).toEqual(['CVE-2023-1999', 'CVE-2023-4863']);
    expect(ids('cef', null)).toEqual({ affected: [], cannotTell: [] });
  });
});

// ---- range semantics on made-up advisories

function advisory(id: string, ranges: OsvRange['events'][], extra: Partial<Advisory> & { versions?: string[] } = {}): Advisory {
  const { versions, ...rest } = extra;
  return {
    id,
    modified: '2026-01-01T00:00:00Z',
    file: `/virtual/${id}.json`,
    affected: [
      {
        package: { ecosystem: 'vendorscan', name: 'libpng' },
        ranges: ranges.map((events) => ({ type: 'ECOSYSTEM', events })),
        ...(versions ? { versions } : {}),
      },
    ],
    references: [{ type: 'WEB', url: 'https://example.org/' }],
    ...rest,
  };
}

function verdict(a: Advisory, version: string | null): 'affected' | 'cannot tell' | 'no' {
  const r = advisoriesFor('libpng', version, [a], compare);
  return r.affected.length > 0 ? 'affected' : r.cannotTell.length > 0 ? 'cannot tell' : 'no';
}

describe('range semantics', () => {
  it('introduced is inclusive, fixed exclusive, "0" is before everything', () => {
    const a = advisory('x_T-1', [[{ introduced: '1.6.0' }, { fixed: '1.6.37' }]]);
    expect(['1.5.30', '1.6.0', '1.6.36', '1.6.37', '1.7.0'].map((v) => verdict(a, v))).toEqual(['no', 'affected', 'affected', 'no', 'no']);
    const b = advisory('x_T-2', [[{ introduced: '0' }, { fixed: '1.0' }]]);
    expect(['0.0.1', '0.9', '1.0.0'].map((v) => verdict(b, v))).toEqual(['affected', 'affected', 'no']);
  });

  it('last_affected is inclusive', () => {
    const a = advisory('x_T-3', [[{ introduced: '1.0.0' }, { last_affected: '1.2.3' }]]);
    expect(['0.9.9', '1.0.0', '1.2.3', '1.2.4'].map((v) => verdict(a, v))).toEqual(['no', 'affected', 'affected', 'no']);
  });

  it('limit caps the range; without fixed everything from introduced up to the limit is affected', () => {
    const a = advisory('x_T-4', [[{ introduced: '22.0.0-0' }, { limit: '23.0.0-0' }]]);
    expect(['21.4.4', '22.0.0-alpha.1', '22.0.0', '22.3.27', '23.0.0-alpha.1', '23.0.0'].map((v) => verdict(a, v))).toEqual([
      'no', 'affected', 'affected', 'affected', 'no', 'no',
    ]);
    const open = advisory('x_T-5', [[{ introduced: '2.0.0' }, { limit: '*' }]]);
    expect(verdict(open, '99.0.0')).toBe('affected');
    const unbounded = advisory('x_T-6', [[{ introduced: '2.0.0' }]]);
    expect(['1.9', '2.0.0', '99.0.0'].map((v) => verdict(unbounded, v))).toEqual(['no', 'affected', 'affected']);
  });

  it('several introduced/fixed pairs in one range, in any order, and several ranges', () => {
    const oneRange = advisory('x_T-7', [[{ fixed: '2.4.1' }, { introduced: '1.0.0' }, { fixed: '1.2.0' }, { introduced: '2.0.0' }]]);
    expect(['0.9', '1.1.9', '1.2.0', '1.9', '2.0.0', '2.4.0', '2.4.1'].map((v) => verdict(oneRange, v))).toEqual([
      'no', 'affected', 'no', 'no', 'affected', 'affected', 'no',
    ]);
    const twoRanges = advisory('x_T-8', [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }], [{ introduced: '2.0.0' }, { fixed: '2.4.1' }]]);
    expect(['1.1.9', '1.9', '2.4.0'].map((v) => verdict(twoRanges, v))).toEqual(['affected', 'no', 'affected']);
  });

  it('a fixed event at the introduced version leaves nothing affected', () => {
    const a = advisory('x_T-9', [[{ introduced: '1.0.0' }, { fixed: '1.0.0' }]]);
    expect(['1.0.0', '1.0.1'].map((v) => verdict(a, v))).toEqual(['no', 'no']);
  });

  it('explicit versions are affected on their own', () => {
    const a = advisory('x_T-10', [], { versions: ['1.0.2-beta1', '1.4.0'] });
    expect(['1.0.2-beta1', '1.4', '1.4.0', '1.4.1'].map((v) => verdict(a, v))).toEqual(['affected', 'affected', 'affected', 'no']);
  });

  it('a version or bound the comparator cannot read makes the advisory undecidable, not unaffected', () => {
    const a = advisory('x_T-11', [[{ introduced: '1.0.1' }, { fixed: '1.0.1g' }]]);
    expect(verdict(a, '1.0.1')).toBe('cannot tell');
    expect(verdict(a, '0.9')).toBe('no'); // the unreadable bound is never reached
    const b = advisory('x_T-12', [[{ introduced: '1.0.0' }, { fixed: '2.0.0' }]]);
    expect(verdict(b, 'weird')).toBe('cannot tell');
    expect(verdict(b, null)).toBe('cannot tell');
  });

  it('ignores other libraries, other ecosystems and withdrawn advisories', () => {
    const other: Advisory = {
      ...advisory('x_T-13', [[{ introduced: '0' }]]),
      affected: [
        { package: { ecosystem: 'npm', name: 'libpng' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] },
        { package: { ecosystem: 'vendorscan', name: 'zlib' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] },
      ],
    };
    expect(verdict(other, '1.0.0')).toBe('no');
    expect(verdict(other, null)).toBe('no');
    const withdrawn = advisory('x_T-14', [[{ introduced: '0' }]], { withdrawn: '2026-02-01T00:00:00Z' });
    expect(verdict(withdrawn, '1.0.0')).toBe('no');
  });
});

// ---- malformed files

const GOOD = JSON.parse(readFileSync(path.join(BUNDLED_ADVISORIES_DIR, 'CVE-2023-1999.json'), 'utf8')) as Record<string, unknown>;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folderWith(name: string, content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-advisories-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return dir;
}

function refusal(dir: string): AdvisoryError {
  try {
    loadAdvisories([dir]);
  } catch (e) {
    if (e instanceof AdvisoryError) return e;
    throw e;
  }
  throw new Error('loaded a malformed advisory');
}

function edited(edit: (record: Record<string, unknown> & { affected: Array<Record<string, unknown> & { ranges: Array<Record<string, unknown>> }> }) => void): unknown {
  const copy = structuredClone(GOOD) as Parameters<typeof edit>[0];
  edit(copy);
  return copy;
}

describe('malformed advisories', () => {
  const cases: Array<[string, unknown, string]> = [
    ['an event version that is not a string', edited((r) => { r.affected[0]!.ranges[0]!['events'] = [{ introduced: 0 }, { fixed: '1.3.1' }]; }), '/affected/0/ranges/0/events/0/introduced'],
    ['a missing modified date', edited((r) => { delete r['modified']; }), '/modified'],
    ['a published date that is not a date', edited((r) => { r['published'] = 'June 2023'; }), '/published'],
    ['an ecosystem OSV does not know', edited((r) => { r.affected[0]!['package'] = { ecosystem: 'Vendorscan', name: 'libwebp' }; }), '/affected/0/package/ecosystem'],
    ['a library vendorscan does not know', edited((r) => { r.affected[0]!['package'] = { ecosystem: 'vendorscan', name: 'libweb' }; }), '/affected/0/package/name'],
    ['both fixed and last_affected', edited((r) => { r.affected[0]!.ranges[0]!['events'] = [{ introduced: '0' }, { fixed: '1.3.1' }, { last_affected: '1.3.0' }]; }), '/affected/0/ranges/0'],
    ['a range type vendorscan does not evaluate', edited((r) => { r.affected[0]!.ranges[0]!['type'] = 'SEMVER'; }), '/affected/0/ranges/0/type'],
    ['a reference without a url', edited((r) => { r['references'] = [{ type: 'WEB' }]; }), '/references/0/url'],
    ['no reference at all', edited((r) => { r['references'] = []; }), '/references'],
    ['a field OSV does not define', edited((r) => { r['fixed_in'] = '1.3.1'; }), '/fixed_in'],
    ['an id that is not a known prefix', edited((r) => { r['id'] = 'VENDORSCAN-1'; }), '/id'],
  ];
  it.each(cases)('names file and field for %s', (_, content, field) => {
    const dir = folderWith('CVE-2023-1999.json', content);
    const e = refusal(dir);
    expect(e.file).toBe(path.join(dir, 'CVE-2023-1999.json'));
    expect(e.field).toBe(field);
    expect(e.message).toContain(e.file);
    expect(e.message).toContain(field);
  });

  it('refuses a file that is not JSON', () => {
    const dir = folderWith('CVE-2023-1999.json', '{ "id": ');
    const e = refusal(dir);
    expect(e.file).toBe(path.join(dir, 'CVE-2023-1999.json'));
    expect(e.field).toBe('');
    expect(e.message).toMatch(/not JSON/);
  });

  it('refuses a file not named after its id', () => {
    const e = refusal(folderWith('CVE-2023-0001.json', GOOD));
    expect(e.field).toBe('/id');
    expect(e.message).toMatch(/CVE-2023-1999\.json/);
  });

  it('refuses an id an extra folder repeats', () => {
    const dir = folderWith('CVE-2023-1999.json', GOOD);
    expect(loadAdvisories([dir])).toHaveLength(1);
    const e = (() => {
      try {
        loadAdvisories([BUNDLED_ADVISORIES_DIR, dir]);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(AdvisoryError);
    expect((e as AdvisoryError).file).toBe(path.join(dir, 'CVE-2023-1999.json'));
    expect((e as AdvisoryError).message).toMatch(/already used by/);
  });

  it('loads extra folders after the bundled one', () => {
    const extra = edited((r) => { r['id'] = 'x_LOCAL-1'; });
    const dir = folderWith('x_LOCAL-1.json', extra);
    const all = loadAdvisories([BUNDLED_ADVISORIES_DIR, dir]);
    expect(all).toHaveLength(bundled.length + 1);
    expect(all.at(-1)?.id).toBe('x_LOCAL-1');
  });
});
