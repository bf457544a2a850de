// What changed between two runs, copy by copy. A copy is keyed by store path, file and library; a
// version bump changes the store path's hash, so copies that left and arrived are then paired by
// package name (pname, library and file, else pname and library when that pairs one with one):
// such a pair is "changed" when the copy's or the package's version differs, and merely rebuilt
// (neither appeared nor went away) when both are the same. Advisories are compared across pairs.
import type { Copy } from './copies.ts';

export interface RunDiff {
  appeared: Copy[];
  disappeared: Copy[];
  changed: { before: Copy; after: Copy }[];
  newlyAffected: { copy: Copy; advisories: string[] }[];
  noLongerAffected: { copy: Copy; advisories: string[] }[];
}

const key = (c: Copy): string => `${c.storePath}\0${c.file}\0${c.library}`;

function byKey(copies: readonly Copy[]): Map<string, Copy> {
  const m = new Map<string, Copy>();
  for (const c of copies) if (!m.has(key(c))) m.set(key(c), c);
  return m;
}

/** Pairs left-over copies on `k`, one with one only; removes the pairs from both lists. */
function pairBy(gone: Copy[], arrived: Copy[], k: (c: Copy) => string): [Copy, Copy][] {
  const group = (list: Copy[]): Map<string, Copy[]> => {
    const m = new Map<string, Copy[]>();
    for (const c of list) m.set(k(c), [...(m.get(k(c)) ?? []), c]);
    return m;
  };
  const g = group(gone);
  const a = group(arrived);
  const pairs: [Copy, Copy][] = [];
  for (const [name, olds] of g) {
    const news = a.get(name);
    if (olds.length === 1 && news?.length === 1 && olds[0] && news[0]) pairs.push([olds[0], news[0]]);
  }
  const paired = new Set(pairs.flat());
  gone.splice(0, gone.length, ...gone.filter((c) => !paired.has(c)));
  arrived.splice(0, arrived.length, ...arrived.filter((c) => !paired.has(c)));
  return pairs;
}

const minus = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => !b.includes(x));

export function diffCopies(before: readonly Copy[], after: readonly Copy[]): RunDiff {
  const old = byKey(before);
  const now = byKey(after);
  const gone = [...old.values()].filter((c) => !now.has(key(c)));
  const arrived = [...now.values()].filter((c) => !old.has(key(c)));
  const pairs: [Copy, Copy][] = [...old.values()].flatMap((c): [Copy, Copy][] => {
    const n = now.get(key(c));
    return n ? [[c, n]] : [];
  });
  pairs.push(...pairBy(gone, arrived, (c) => `${c.pname}\0${c.library}\0${c.file}`));
  pairs.push(...pairBy(gone, arrived, (c) => `${c.pname}\0${c.library}`));
  const changed = pairs.filter(([b, a]) => b.version !== a.version || b.versionRaw !== a.versionRaw || b.packageVersion !== a.packageVersion).map(([b, a]) => ({ before: b, after: a }));
  const newlyAffected: RunDiff['newlyAffected'] = [];
  const noLongerAffected: RunDiff['noLongerAffected'] = [];
  for (const [b, a] of pairs) {
    const added = minus(a.advisories, b.advisories);
    const removed = minus(b.advisories, a.advisories);
    if (added.length > 0) newlyAffected.push({ copy: a, advisories: added });
    if (removed.length > 0) noLongerAffected.push({ copy: a, advisories: removed });
  }
  for (const a of arrived) if (a.advisories.length > 0) newlyAffected.push({ copy: a, advisories: a.advisories });
  for (const b of gone) if (b.advisories.length > 0) noLongerAffected.push({ copy: b, advisories: b.advisories });
  const order = (x: Copy, y: Copy): number => x.storePath.localeCompare(y.storePath) || x.file.localeCompare(y.file) || x.library.localeCompare(y.library);
  return {
    appeared: arrived.sort(order),
    disappeared: gone.sort(order),
    changed: changed.sort((x, y) => order(x.after, y.after)),
    newlyAffected: newlyAffected.sort((x, y) => order(x.copy, y.copy)),
    noLongerAffected: noLongerAffected.sort((x, y) => order(x.copy, y.copy)),
  };
}
