// Store paths as the results store keeps them: registered once, in bulk, shared by runs and
// searches. One statement per batch of paths, not per path: round trips bound a re-run.
import type { Queryable } from './database.ts';
import { parseStorePath, type StorePath } from '../nix/store-path.ts';

/** Paths per statement when registering a source. */
export const REGISTER_BATCH = 1000;

/** Parses each input; duplicates are kept once, invalid inputs are returned as given. */
export function parseStorePaths(inputs: string[]): { valid: StorePath[]; invalid: string[] } {
  const valid = new Map<string, StorePath>();
  const invalid: string[] = [];
  for (const input of inputs) {
    try {
      const sp = parseStorePath(input);
      valid.set(sp.path, sp);
    } catch {
      invalid.push(input);
    }
  }
  return { valid: [...valid.values()], invalid };
}

/** Inserts the store paths that are not known yet (idempotent). */
export async function registerStorePaths(db: Queryable, paths: StorePath[]): Promise<void> {
  if (paths.length === 0) return;
  await db.query(
    `INSERT INTO store_paths (path, hash, pname, version)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (path) DO NOTHING`,
    [paths.map((p) => p.path), paths.map((p) => p.hash), paths.map((p) => p.pname), paths.map((p) => p.version)],
  );
}

/** Calls `each` with the paths in batches of REGISTER_BATCH, each batch registered first. */
export async function forRegisteredBatches(db: Queryable, paths: StorePath[], each: (batch: string[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < paths.length; i += REGISTER_BATCH) {
    const batch = paths.slice(i, i + REGISTER_BATCH);
    await registerStorePaths(db, batch);
    await each(batch.map((p) => p.path));
  }
}
