// Issue 11, start-up on a new data dir: a new embedded store is a copy of an empty migrated one
// (store/template.ts) instead of PGlite's initdb at every new data dir. Real PGlite, real files:
// the template is built once, holds no run data, is rebuilt for another schema, and a damaged
// template falls back to initdb.
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openResultsStore } from '../../store/migrate.ts';
import { createRun } from '../../store/runs.ts';
import { templatePath } from '../../store/template.ts';
import { loadConfig } from '../../services/config.ts';

const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'vs-template-'));
const templates = (root: string): string[] => readdirSync(root).filter((n) => n.startsWith('pglite-store-'));

async function counts(dataDir: string, storeTemplateDir: string): Promise<{ runs: number; packages: number; migrations: number }> {
  const db = await openResultsStore({ databaseUrl: null, dataDir, storeTemplateDir });
  try {
    const n = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
    return { runs: await n('SELECT count(*) AS n FROM runs'), packages: await n('SELECT count(*) AS n FROM library_packages'), migrations: await n('SELECT count(*) AS n FROM schema_migrations') };
  } finally {
    await db.close();
  }
}

describe('embedded store template', () => {
  it('is built by the first new store, copied into the next, and never carries a run', async () => {
    const root = fresh();
    const first = path.join(fresh(), 'data');
    const db = await openResultsStore({ databaseUrl: null, dataDir: first, storeTemplateDir: root });
    await createRun(db, { source: { kind: 'paths', label: 'template test' }, cacheUrl: 'file:///nowhere', rulesetDigest: 'x' });
    await db.close();
    expect(templates(root)).toHaveLength(1);
    const template = path.join(root, templates(root)[0] ?? '');
    const builtAt = statSync(path.join(template, 'PG_VERSION')).mtimeMs;

    const second = await counts(path.join(fresh(), 'data'), root);
    const reference = await counts(path.join(fresh(), 'data'), path.join(fresh(), 'unused'));
    expect(second.runs).toBe(0);
    expect(second.packages).toBeGreaterThan(0);
    // The copy is what migrate() makes of an empty store: same migrations, same packages.
    expect(second).toEqual(reference);
    expect(statSync(path.join(template, 'PG_VERSION')).mtimeMs).toBe(builtAt);
    expect(templates(root)).toHaveLength(1);
    // The first store kept its own run.
    expect((await counts(first, root)).runs).toBe(1);
  }, 120_000);

  it('falls back to initdb when the template is damaged', async () => {
    const root = fresh();
    await counts(path.join(fresh(), 'data'), root);
    const template = path.join(root, templates(root)[0] ?? '');
    // Postgres cannot start without its control file.
    writeFileSync(path.join(template, 'global', 'pg_control'), 'not a control file');
    const c = await counts(path.join(fresh(), 'data'), root);
    expect(c.runs).toBe(0);
    expect(c.packages).toBeGreaterThan(0);
  }, 120_000);

  it('keys the template by the schema, so a changed migration never reuses an old one', () => {
    expect(templatePath('/r', 'a')).not.toBe(templatePath('/r', 'b'));
    expect(templatePath('/r', 'a')).toBe(templatePath('/r', 'a'));
  });

  it('is configured by VENDORSCAN_STORE_TEMPLATE, the XDG cache folder, or off', () => {
    expect(loadConfig({ VENDORSCAN_STORE_TEMPLATE: 'off', HOME: '/home/u' }).storeTemplateDir).toBeNull();
    expect(loadConfig({ XDG_CACHE_HOME: '/c', HOME: '/home/u' }).storeTemplateDir).toBe('/c/vendorscan');
    expect(loadConfig({ HOME: '/home/u' }).storeTemplateDir).toBe('/home/u/.cache/vendorscan');
    expect(loadConfig({ VENDORSCAN_STORE_TEMPLATE: '/t' }).storeTemplateDir).toBe('/t');
    expect(existsSync('/t')).toBe(false); // reading the configuration creates nothing
  });
});
