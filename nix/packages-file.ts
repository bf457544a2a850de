// Attribution of store paths to nixpkgs packages, from the two listings Nix itself writes: the
// `packages.json` published beside a channel (`{version: 2, packages: {attr: {...}}}`, no output
// paths) and `nix-env -qa --json --meta --out-path` (`{attr: {..., outputs: {out: path}}}`). A store
// path is joined by output path where the listing has them, else by name (`pname-version`, with a
// split output's `-dev`/`-lib` suffix). Pure: the caller reads the file.
import { VendorscanError } from '../errors/errors.ts';
import { storePathName } from './store-path.ts';

export class PackagesFileError extends VendorscanError {
  constructor(source: string, where: string, message: string) {
    super('VS_PACKAGES_FILE', 'config', `${source}${where === '' ? '' : `: ${where}`}: ${message}`);
  }
}

export interface PackageAttribution {
  attribute: string;
  /** GitHub handles (a maintainer without one is named by name). */
  maintainers: string[];
  homepage: string | null;
  /** meta.position: file:line of the package's definition. */
  position: string | null;
  system: string | null;
}

export interface PackageIndex {
  /** How many packages the listing has. */
  size: number;
  /** Whether any entry carried output paths (nix-env --out-path). */
  hasOutPaths: boolean;
  lookup(storePath: string): PackageAttribution | null;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function maintainerNames(v: Json | undefined): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((m): string[] => {
    if (typeof m === 'string') return [m];
    if (!isObject(m)) return [];
    const github = m['github'];
    const name = m['name'];
    return typeof github === 'string' && github !== '' ? [github] : typeof name === 'string' ? [name] : [];
  });
}

function firstString(v: Json | undefined): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.find((x): x is string => typeof x === 'string') ?? null;
  return null;
}

/** Prefer top-level attributes, then shorter ones, then alphabetical: one answer for a shared name. */
function better(a: string, b: string): boolean {
  const da = a.split('.').length;
  const db = b.split('.').length;
  return da !== db ? da < db : a.length !== b.length ? a.length < b.length : a < b;
}

/** Parses a packages listing (either shape). `source` names it in errors. */
export function parsePackagesFile(text: string, source: string): PackageIndex {
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (err) {
    throw new PackagesFileError(source, '', `not JSON (${(err as Error).message}); expected a channel's packages.json or \`nix-env -qa --json --meta --out-path\` output`);
  }
  if (!isObject(data)) throw new PackagesFileError(source, '', 'expected a JSON object of packages');
  let packages: { [k: string]: Json } = data;
  if ('packages' in data && 'version' in data) {
    const inner = data['packages'];
    if (!isObject(inner)) throw new PackagesFileError(source, '/packages', 'expected an object of packages by attribute');
    packages = inner;
  }
  const byOutPath = new Map<string, PackageAttribution>();
  const byName = new Map<string, PackageAttribution>();
  let hasOutPaths = false;
  let size = 0;
  for (const [attribute, entry] of Object.entries(packages)) {
    if (!isObject(entry)) throw new PackagesFileError(source, `/${attribute}`, 'expected an object with name, pname, version, meta');
    const name = entry['name'];
    if (typeof name !== 'string' || name === '') throw new PackagesFileError(source, `/${attribute}/name`, 'missing or not a string');
    const meta = entry['meta'] === undefined ? {} : entry['meta'];
    if (!isObject(meta)) throw new PackagesFileError(source, `/${attribute}/meta`, 'expected an object');
    const position = meta['position'];
    const system = entry['system'];
    const attribution: PackageAttribution = {
      attribute,
      maintainers: maintainerNames(meta['maintainers']),
      homepage: firstString(meta['homepage']),
      position: typeof position === 'string' ? position : null,
      system: typeof system === 'string' ? system : null,
    };
    size++;
    const outputs = entry['outputs'];
    const outputNames = isObject(outputs) ? Object.keys(outputs) : [];
    if (isObject(outputs)) {
      for (const [output, p] of Object.entries(outputs)) {
        if (p === null) continue;
        if (typeof p !== 'string') throw new PackagesFileError(source, `/${attribute}/outputs/${output}`, 'expected a store path or null');
        hasOutPaths = true;
        byOutPath.set(p, attribution);
      }
    }
    // A split output's store path is named `<name>-<output>`; `out` carries the bare name.
    for (const n of [name, ...outputNames.filter((o) => o !== 'out').map((o) => `${name}-${o}`)]) {
      const earlier = byName.get(n);
      if (!earlier || better(attribute, earlier.attribute)) byName.set(n, attribution);
    }
  }
  return {
    size,
    hasOutPaths,
    lookup(storePath) {
      const hit = byOutPath.get(storePath);
      if (hit) return hit;
      const { pname, version } = storePathName(storePath);
      return byName.get(version === null ? pname : `${pname}-${version}`) ?? null;
    },
  };
}

/** The search.nixos.org channel name of a Nix channel: nixos-24.05 → 24.05, else unstable. */
export function searchChannel(channel: string | null): string {
  const m = channel === null ? null : /(\d{2}\.\d{2})/.exec(channel);
  return m?.[1] ?? 'unstable';
}

/** Where a human checks the package: its search.nixos.org entry and its Hydra job. */
export function packageLinks(attribution: PackageAttribution | null, channel: string | null): { search: string | null; hydra: string | null } {
  if (!attribution) return { search: null, hydra: null };
  const ch = searchChannel(channel);
  const attr = encodeURIComponent(attribution.attribute);
  const system = attribution.system ?? 'x86_64-linux';
  return {
    search: `https://search.nixos.org/packages?channel=${ch}&show=${attr}&query=${attr}`,
    hydra: ch === 'unstable' ? `https://hydra.nixos.org/job/nixpkgs/trunk/${attr}.${system}` : `https://hydra.nixos.org/job/nixos/release-${ch}/nixpkgs.${attr}.${system}`,
  };
}
