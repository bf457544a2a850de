// The pure parts of decisions: which advisories a copy falls under (the bundling product's
// version deciding for what it bundles), the triage file's grammar and dates, both shapes of
// packages listing, and how a diff pairs copies across store-path hashes.
import { describe, expect, it } from 'vitest';
import { loadAdvisories } from '../../advisories/loader.ts';
import { evaluateCopies, findAdvisory } from '../../advisories/evaluate.ts';
import { parseTriage, triageOf, TriageFileError } from '../../advisories/triage.ts';
import { PackagesFileError, packageLinks, parsePackagesFile } from '../../nix/packages-file.ts';
import { parseVersion } from '../../signatures/version.ts';
import { diffCopies } from '../../services/decisions/diff.ts';
import type { Copy } from '../../services/decisions/copies.ts';

const advisories = loadAdvisories();
const P = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz';

describe('evaluateCopies', () => {
  it('judges a copy by its own version, and an unknown one as cannot tell', () => {
    const [known, unknown] = evaluateCopies(
      [
        { storePath: `${P}-app-1`, file: 'lib/libwebp.so.7', library: 'libwebp', version: '1.3.1' },
        { storePath: `${P}-app-1`, file: 'bin/app', library: 'libwebp', version: null },
      ],
      advisories,
    );
    expect(known?.advisories).toEqual(['CVE-2023-4863']); // 1.3.1 has the CVE-2023-1999 fix
    expect(unknown?.advisories).toEqual([]);
    expect(unknown?.cannotTell).toEqual(expect.arrayContaining(['CVE-2023-1999', 'CVE-2023-4863']));
  });

  it("lets Chromium's version decide for the libwebp it bundles", () => {
    const copies = [
      { storePath: `${P}-chromium-115`, file: 'libexec/chromium', library: 'chromium', version: '115.0.5790.170' },
      { storePath: `${P}-chromium-115`, file: 'libexec/chromium', library: 'libwebp', version: null },
      { storePath: `${P}-chromium-117`, file: 'libexec/chromium', library: 'chromium', version: '117.0.5938.132' },
      { storePath: `${P}-chromium-117`, file: 'libexec/chromium', library: 'libwebp', version: '1.3.1' },
    ];
    const [chromium115, webp115, chromium117, webp117] = evaluateCopies(copies, advisories);
    expect(chromium115?.advisories).toEqual(expect.arrayContaining(['CVE-2023-4863', 'CVE-2023-5217']));
    // Unknown on its own, affected through the product.
    expect(webp115?.advisories).toContain('CVE-2023-4863');
    expect(webp115?.cannotTell).not.toContain('CVE-2023-4863');
    // Chromium 117 carries the fix: its 1.3.1 copy is not under CVE-2023-4863; CVE-2023-1999 names libwebp only.
    expect(chromium117?.advisories).toEqual([]);
    expect(webp117?.advisories).toEqual([]);
  });

  it('lets Electron outrank the Chromium inside it', () => {
    const [, , webp] = evaluateCopies(
      [
        { storePath: `${P}-app`, file: 'opt/app/app', library: 'electron', version: '25.8.1' },
        { storePath: `${P}-app`, file: 'opt/app/app', library: 'chromium', version: '114.0.5735.289' },
        { storePath: `${P}-app`, file: 'opt/app/app', library: 'libwebp', version: null },
      ],
      advisories,
    );
    // Electron 25.8.1 is the fixed release for CVE-2023-4863, whatever Chromium version it reports.
    expect(webp?.advisories).not.toContain('CVE-2023-4863');
    expect(webp?.cannotTell).not.toContain('CVE-2023-4863');
  });

  it('puts end-of-life Electron in cannot tell while the grammar cannot read N.0.0-0, never drops it', () => {
    const [electron] = evaluateCopies([{ storePath: `${P}-app`, file: 'app', library: 'electron', version: '22.3.0' }], advisories);
    const readable = parseVersion('22.0.0-0') !== null;
    expect(readable ? electron?.advisories : electron?.cannotTell).toContain('x_VENDORSCAN-EOL-ELECTRON-22');
    expect(electron?.advisories).toContain('CVE-2023-4863'); // 22.0.0 ≤ 22.3.0 < 22.3.24
  });

  it('finds an advisory by id or alias, in any case', () => {
    expect(findAdvisory(advisories, 'ghsa-j7hp-h8jx-5ppr')?.id).toBe('CVE-2023-4863');
    expect(findAdvisory(advisories, 'CVE-1999-0001')).toBeNull();
  });
});

describe('the triage file', () => {
  const copy = { storePath: `${P}-signal-desktop-7.0.0`, pname: 'signal-desktop', packageVersion: '7.0.0', library: 'libwebp' };

  it('applies up to and including its until date, then stops', () => {
    const [entry] = parseTriage('[[suppress]]\npname = "signal-desktop"\nversion = "7.0.0"\nadvisory = "GHSA-j7hp-h8jx-5ppr"\nreason = "patched"\nuntil = 2026-12-31\n', 't.toml', advisories);
    expect(entry).toMatchObject({ advisories: ['CVE-2023-4863'], until: '2026-12-31' });
    const e = entry ? [entry] : [];
    expect(triageOf(e, copy, 'CVE-2023-4863', [], '2026-12-31')).toHaveLength(1);
    expect(triageOf(e, copy, 'CVE-2023-4863', [], '2027-01-01')).toHaveLength(0);
    expect(triageOf(e, copy, 'CVE-2023-1999', [], '2026-12-31')).toHaveLength(0);
    expect(triageOf(e, { ...copy, packageVersion: '7.1.0' }, 'CVE-2023-4863', [], '2026-12-31')).toHaveLength(0);
    // As a whole: hidden only when every advisory of the copy is covered.
    expect(triageOf(e, copy, null, ['CVE-2023-4863'], '2026-12-31')).toHaveLength(1);
    expect(triageOf(e, copy, null, ['CVE-2023-1999', 'CVE-2023-4863'], '2026-12-31')).toHaveLength(0);
  });

  it('hides a copy as a whole when the entry names no advisory', () => {
    const e = parseTriage(`[[suppress]]\nlibrary = "libwebp"\nstore_path = "${copy.storePath}"\nreason = "test data"\n`, 't.toml', advisories);
    expect(triageOf(e, copy, null, [], '2030-01-01')).toHaveLength(1);
    expect(triageOf(e, { ...copy, library: 'libpng' }, null, [], '2030-01-01')).toHaveLength(0);
  });

  it.each([
    ['[[suppress]]\npname = "x"\n', '[[suppress]] #1 reason: every entry needs a reason'],
    ['[[suppress]]\nreason = "r"\n', '[[suppress]] #1: matches everything'],
    ['[[suppress]]\npname = "x"\nreason = "r"\nuntil = "soon"\n', '[[suppress]] #1 until: must be a date'],
    ['[[suppress]]\npname = "x"\nreason = "r"\nadvisory = "CVE-1999-0001"\n', 'unknown advisory "CVE-1999-0001"'],
    ['[[suppress]]\nversion = "1"\nreason = "r"\nlibrary = "zlib"\n', 'version needs pname'],
    ['[[suppress]]\nstore_path = "/tmp/x"\nreason = "r"\n', 'is not a store path'],
    ['[whitelist]\n', 'whitelist: unknown table'],
    ['[[suppress]\n', 't.toml: line 1'],
  ])('refuses %j', (text, message) => {
    expect(() => parseTriage(text, 't.toml', advisories)).toThrow(TriageFileError);
    expect(() => parseTriage(text, 't.toml', advisories)).toThrow(message);
  });
});

describe('packages listings', () => {
  const channel = JSON.stringify({
    version: 2,
    packages: {
      libwebp: { name: 'libwebp-1.3.2', pname: 'libwebp', version: '1.3.2', system: 'x86_64-linux', outputName: 'out', outputs: { out: null, dev: null }, meta: { maintainers: [{ github: 'ajs124', githubId: 1, name: 'A' }], homepage: ['https://developers.google.com/speed/webp/'], position: 'pkgs/by-name/li/libwebp/package.nix:42' } },
      'python311Packages.libwebp': { name: 'libwebp-1.3.2', pname: 'libwebp', version: '1.3.2', system: 'x86_64-linux', meta: {} },
    },
  });

  it("joins a channel's packages.json by name, split outputs included, preferring the top-level attribute", () => {
    const index = parsePackagesFile(channel, 'packages.json');
    expect(index).toMatchObject({ size: 2, hasOutPaths: false });
    const hit = index.lookup(`${P}-libwebp-1.3.2-dev`);
    expect(hit).toMatchObject({ attribute: 'libwebp', maintainers: ['ajs124'], homepage: 'https://developers.google.com/speed/webp/', position: 'pkgs/by-name/li/libwebp/package.nix:42' });
    expect(index.lookup(`${P}-libwebp-1.3.1`)).toBeNull();
    expect(packageLinks(hit, 'nixos-24.05')).toEqual({
      search: 'https://search.nixos.org/packages?channel=24.05&show=libwebp&query=libwebp',
      hydra: 'https://hydra.nixos.org/job/nixos/release-24.05/nixpkgs.libwebp.x86_64-linux',
    });
  });

  it('names the file and the field of a malformed listing', () => {
    expect(() => parsePackagesFile('{"version": 2, "packages": []}', 'p.json')).toThrow('p.json: /packages: expected an object');
    expect(() => parsePackagesFile('{"a": {"meta": {}}}', 'p.json')).toThrow('p.json: /a/name: missing');
    expect(() => parsePackagesFile('[1]', 'p.json')).toThrow(PackagesFileError);
    expect(() => parsePackagesFile('{', 'p.json')).toThrow('p.json: not JSON');
  });
});

describe('diffCopies', () => {
  const copy = (storePath: string, version: string | null, advisories: string[] = []): Copy => {
    const name = storePath.slice(P.length + 1);
    const dash = name.search(/-\d/);
    return {
      storePath,
      pname: name.slice(0, dash),
      packageVersion: name.slice(dash + 1),
      file: 'lib/libwebp.so.7',
      library: 'libwebp',
      version,
      versionRaw: null,
      confidence: 'high',
      evidence: 'exported-version-function',
      vendored: true,
      linkage: 'unknown',
      linkageReason: 'not ELF',
      advisories,
      attribute: null,
      maintainers: [],
      homepage: null,
      position: null,
      links: { search: null, hydra: null },
    };
  };

  it('pairs by package name across hashes; a rebuild with the same versions is no change', () => {
    const before = [copy(`${P}-app-1.0`, '1.2.4', ['CVE-2023-4863']), copy(`${P.replace('0', '1')}-tool-2.0`, '1.3.2')];
    const after = [copy(`${P.replace('0', '2')}-app-1.1`, '1.3.2'), copy(`${P.replace('0', '3')}-tool-2.0`, '1.3.2')];
    const d = diffCopies(before, after);
    expect(d.appeared).toEqual([]);
    expect(d.disappeared).toEqual([]);
    expect(d.changed.map((c) => `${c.before.version}→${c.after.version}`)).toEqual(['1.2.4→1.3.2']);
    expect(d.noLongerAffected).toEqual([{ copy: after[0], advisories: ['CVE-2023-4863'] }]);
    expect(d.newlyAffected).toEqual([]);
  });
});
