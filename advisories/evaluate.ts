// Which advisories a found copy falls under. A copy is judged by its own library's version, unless
// it sits in a file that a bundling product (Electron, CEF, Chromium) was also found in with a
// readable version: products patch the libraries they bundle (Chromium 117's libwebp is 1.3.1 plus
// the fix), so the product's ranges decide there. An unknown version is "cannot tell", never
// "unaffected". The version order is the project's one (signatures/version.ts).
import { advisoriesFor, type Advisory } from './loader.ts';
import { compareVersions, parseVersion, type Version } from '../signatures/version.ts';
import { VendorscanError } from '../errors/errors.ts';

// Advisory bounds are compared with every copy's version: parse each text once (bounded cache).
const PARSED = new Map<string, Version | null>();
function parsed(text: string): Version | null {
  let v = PARSED.get(text);
  if (v === undefined) {
    v = parseVersion(text);
    if (PARSED.size >= 50_000) PARSED.clear();
    PARSED.set(text, v);
  }
  return v;
}

/** The project's version order over version text; throws on a version the grammar cannot read. */
export function compareVersionText(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  if (!x || !y) throw new VendorscanError('VS_VERSION_UNREADABLE', 'input', `cannot order version "${x ? b : a}"`);
  return compareVersions(x, y);
}

// Thrown by the evaluation's comparator when a version or bound is unreadable: the loader only
// needs to know that it threw, and a fresh error with a stack per comparison made evaluating a
// channel's copies spend most of its time building stack traces.
const UNREADABLE = new VendorscanError('VS_VERSION_UNREADABLE', 'input', 'a version or bound the grammar cannot read');
function compareForEvaluation(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  if (!x || !y) throw UNREADABLE;
  return compareVersions(x, y);
}

/** Products that bundle other libraries, the most specific first (Electron embeds Chromium). */
export const BUNDLING_PRODUCTS = ['electron', 'cef', 'chromium'] as const;

/** What evaluation needs of a copy. */
export interface CopyKey {
  storePath: string;
  file: string;
  library: string;
  version: string | null;
}

export interface CopyVerdict {
  /** Ids of the advisories the copy falls under, sorted. */
  advisories: string[];
  /** Ids of advisories that concern the copy's library but cannot be decided (unknown version, unreadable bound). */
  cannotTell: string[];
}

function names(advisories: Advisory[]): string[] {
  return advisories.map((a) => a.id).sort();
}

function concernsProduct(advisory: Advisory, product: string): boolean {
  return (advisory.affected ?? []).some((a) => a.package?.ecosystem === 'vendorscan' && a.package.name === product);
}

/**
 * The verdict for every copy, in the order given. Copies are grouped by file so a library inside a
 * product's binary can be judged by the product's version.
 */
export function evaluateCopies(copies: readonly CopyKey[], advisories: readonly Advisory[]): CopyVerdict[] {
  const products = new Map<string, { library: string; version: string }[]>();
  for (const c of copies) {
    if (c.version === null || !(BUNDLING_PRODUCTS as readonly string[]).includes(c.library)) continue;
    const key = `${c.storePath}\0${c.file}`;
    const list = products.get(key) ?? [];
    list.push({ library: c.library, version: c.version });
    products.set(key, list);
  }
  const cache = new Map<string, { affected: Advisory[]; cannotTell: Advisory[] }>();
  const judge = (library: string, version: string | null): { affected: Advisory[]; cannotTell: Advisory[] } => {
    const key = `${library}\0${version ?? ''}`;
    let r = cache.get(key);
    if (!r) {
      r = advisoriesFor(library, version, advisories, compareForEvaluation);
      cache.set(key, r);
    }
    return r;
  };
  return copies.map((c) => {
    const own = judge(c.library, c.version);
    const bundlers = (BUNDLING_PRODUCTS as readonly string[]).includes(c.library) ? [] : (products.get(`${c.storePath}\0${c.file}`) ?? []);
    if (bundlers.length === 0) return { advisories: names(own.affected), cannotTell: names(own.cannotTell) };
    bundlers.sort((a, b) => BUNDLING_PRODUCTS.indexOf(a.library as (typeof BUNDLING_PRODUCTS)[number]) - BUNDLING_PRODUCTS.indexOf(b.library as (typeof BUNDLING_PRODUCTS)[number]));
    const affected = new Set<string>();
    const cannotTell = new Set<string>();
    for (const a of [...own.affected, ...own.cannotTell]) {
      // The first product the advisory has ranges for decides; else the library's own verdict stands.
      const product = bundlers.find((p) => concernsProduct(a, p.library));
      if (!product) {
        (own.affected.includes(a) ? affected : cannotTell).add(a.id);
        continue;
      }
      const byProduct = judge(product.library, product.version);
      if (byProduct.affected.includes(a)) affected.add(a.id);
      else if (byProduct.cannotTell.includes(a)) cannotTell.add(a.id);
    }
    return { advisories: [...affected].sort(), cannotTell: [...cannotTell].sort() };
  });
}

/** An advisory by id or alias (case-insensitive), or null. */
export function findAdvisory(advisories: readonly Advisory[], idOrAlias: string): Advisory | null {
  const want = idOrAlias.trim().toUpperCase();
  return advisories.find((a) => a.id.toUpperCase() === want) ?? advisories.find((a) => (a.aliases ?? []).some((x) => x.toUpperCase() === want)) ?? null;
}

/** The libraries and products an advisory names in our ecosystem. */
export function advisoryLibraries(advisory: Advisory): string[] {
  return [...new Set((advisory.affected ?? []).flatMap((a) => (a.package?.ecosystem === 'vendorscan' ? [a.package.name] : [])))].sort();
}
