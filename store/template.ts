// A new embedded store starts as a copy of an empty, migrated one. PGlite's initdb runs Postgres's
// bootstrap in WebAssembly: 3.9 s and 580 MB of peak RSS on the 2-core machine, every time a data
// dir is new (a new checkout, a test, a container without a volume). Copying an initialised,
// migrated, cleanly shut down cluster of the same PGlite build and the same migrations takes tens
// of milliseconds, and opening it is an ordinary restart (0.4 s). The template is built once per
// machine, under a key that changes with the PGlite version, the migration files, the version-key
// format and the libraries' own packages, so a template never carries an older schema. It is
// built in a private folder and renamed into place: two processes building at once both succeed
// and one template remains. Nothing here is needed for correctness: any failure falls back to
// initdb, and the template holds no data of any run.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The PGlite build in use (its package.json), found from the module's resolved location. */
function pgliteVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** The template folder for this PGlite build and this schema (`schema` names everything migrate() would write). */
export function templatePath(root: string, schema: string): string {
  const key = createHash('sha256').update(`${pgliteVersion()}\n${schema}`).digest('hex').slice(0, 16);
  return path.join(root, `pglite-store-${key}`);
}

/**
 * Fills the empty PGlite folder `pgdata` from the template under `root`, building the template
 * first when there is none (`build` makes an empty migrated store in the folder it is given and
 * closes it). Returns what it did; on any failure `pgdata` is left empty, for initdb.
 */
export async function seedFromTemplate(pgdata: string, root: string, schema: string, build: (dir: string) => Promise<void>): Promise<'copied' | 'built' | 'failed'> {
  const template = templatePath(root, schema);
  let built = false;
  try {
    if (!existsSync(path.join(template, 'PG_VERSION'))) {
      mkdirSync(root, { recursive: true });
      const scratch = `${template}.tmp-${process.pid}`;
      rmSync(scratch, { recursive: true, force: true });
      try {
        await build(scratch);
        renameSync(scratch, template);
        built = true;
        pruneOthers(root, template);
      } catch (err) {
        // Another process renamed its template into place first: use that one.
        if (!existsSync(path.join(template, 'PG_VERSION'))) throw err;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    cpSync(template, pgdata, { recursive: true });
    return built ? 'built' : 'copied';
  } catch {
    rmSync(pgdata, { recursive: true, force: true });
    mkdirSync(pgdata, { recursive: true });
    return 'failed';
  }
}

/** Templates of older schemas or PGlite builds (40 MB each) go when a new one is built. */
function pruneOthers(root: string, keep: string): void {
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    if (name.startsWith('pglite-store-') && full !== keep && !name.includes('.tmp-')) rmSync(full, { recursive: true, force: true });
  }
}
