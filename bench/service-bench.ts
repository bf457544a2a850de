// The service's figures, in the same `npm run bench`: how fast a re-run settles unchanged store
// paths (target >= 500 paths/s), and how long from an emergency search's submission to its first
// match. Embedded store (PGlite) and in-process jobs, over a cache served on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openRuntime } from '../services/runtime.ts';
import { buildApi } from '../services/api/app.ts';
import { serveDirectory } from '../test/helpers/http-server.ts';
import { benchDir, libraryCache } from './bench-cache.ts';
import { loadConfig } from '../services/config.ts';

const nixEnv = { ...process.env, NIX_REMOTE: process.env['NIX_REMOTE'] ?? 'local' };

/** `count` small store paths (a real binary each), in one file:// cache made by Nix. */
function manyPathsCache(count = 2000): { cacheDir: string; storePaths: string[] } {
  const manifest = path.join(benchDir, `many-${count}.json`);
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { cacheDir: string; storePaths: string[] };
    if (existsSync(m.cacheDir) && m.storePaths.every((p) => existsSync(p))) return m;
  }
  const staging = mkdtempSync(path.join(tmpdir(), 'vendorscan-many-'));
  const binary = readFileSync('/bin/true');
  const trees: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = path.join(staging, `pkg${i}-1.${i}`);
    mkdirSync(path.join(t, 'bin'), { recursive: true });
    writeFileSync(path.join(t, 'bin', 'tool'), Buffer.concat([binary, Buffer.from(`pkg ${i}`)]));
    trees.push(t);
  }
  process.stderr.write(`bench: adding ${count} small store paths with Nix (once)…\n`);
  const storePaths: string[] = [];
  for (let i = 0; i < trees.length; i += 200) {
    storePaths.push(...execFileSync('nix-store', ['--add', ...trees.slice(i, i + 200)], { env: nixEnv, encoding: 'utf8' }).trim().split('\n'));
  }
  const cacheDir = path.join(benchDir, `many-${count}`);
  rmSync(cacheDir, { recursive: true, force: true });
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${cacheDir}?compression=zstd`, ...storePaths], { env: nixEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(staging, { recursive: true, force: true });
  writeFileSync(manifest, JSON.stringify({ cacheDir, storePaths }));
  return { cacheDir, storePaths };
}

async function until<T>(get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rerunRate(label: string, storeEnv: Record<string, string>, many: { storePaths: string[] }, cacheUrl: string): Promise<void> {
  const runtime = await openRuntime(loadConfig({ ...storeEnv, VENDORSCAN_CACHE: cacheUrl }));
  const app = await buildApi({ ...runtime, apiToken: 'bench' });
  const auth = { authorization: 'Bearer bench' };
  const scan = async (): Promise<{ ms: number; skipped: number; scanned: number }> => {
    const start = Date.now();
    const r = await app.inject({ method: 'POST', url: '/v1/scans', payload: { paths: many.storePaths }, headers: auth });
    const id = (r.json() as { id: number }).id;
    const done = await until(async () => (await app.inject({ method: 'GET', url: `/v1/scans/${id}` })).json() as { state: string; skipped: number; scanned: number }, (p) => p.state === 'completed');
    return { ms: Date.now() - start, skipped: done.skipped, scanned: done.scanned };
  };
  const first = await scan();
  const second = await scan();
  console.log(`${label}: first run of ${many.storePaths.length} small paths ${(many.storePaths.length / (first.ms / 1000)).toFixed(0)} store paths/s (${first.scanned} scanned); re-run ${(many.storePaths.length / (second.ms / 1000)).toFixed(0)} store paths/s (${second.skipped} skipped-unchanged; target >= 500)`);
  await app.close();
  await runtime.close();
}

export async function serviceBench(): Promise<void> {
  const many = manyPathsCache();
  const server = await serveDirectory(many.cacheDir);
  await rerunRate('embedded PGlite', { VENDORSCAN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vendorscan-bench-data-')) }, many, server.url);
  const admin = process.env['VENDORSCAN_BENCH_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `vendorscan_bench_${process.pid}`;
  const pgClient = new pg.Client({ connectionString: admin });
  try {
    await pgClient.connect();
    await pgClient.query(`CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    await rerunRate('PostgreSQL', { DATABASE_URL: url.href }, many, server.url);
    await pgClient.query(`DROP DATABASE ${name} WITH (FORCE)`);
  } catch (err) {
    console.log(`PostgreSQL re-run skipped: ${(err as Error).message}`);
  } finally {
    await pgClient.end().catch(() => undefined);
  }
  const auth = { authorization: 'Bearer bench' };

  // Time to first match: a needle in the first path of the library corpus, over its own server.
  const libs = libraryCache();
  const libServer = await serveDirectory(libs.cacheDir);
  const libRuntime = await openRuntime(loadConfig({ VENDORSCAN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vendorscan-bench-data-')), VENDORSCAN_CACHE: libServer.url }));
  const libApp = await buildApi({ ...libRuntime, apiToken: 'bench' });
  const start = Date.now();
  const r = await libApp.inject({ method: 'POST', url: '/v1/searches', payload: { needle: 'GLIBC_2.2.5', paths: libs.storePaths }, headers: auth });
  const id = (r.json() as { id: number }).id;
  await until(async () => (await libApp.inject({ method: 'GET', url: `/v1/searches/${id}?limit=1` })).json() as { matches: number }, (s) => s.matches > 0);
  const first_ = Date.now() - start;
  const all = await until(async () => (await libApp.inject({ method: 'GET', url: `/v1/searches/${id}?limit=1` })).json() as { state: string; matches: number }, (s) => s.state === 'completed');
  console.log(`search submission to first match: ${first_} ms (all ${libs.storePaths.length} paths, ${all.matches} matches, in ${Date.now() - start} ms)`);
  await libApp.close();
  await libRuntime.close();
  await libServer.close();
  await server.close();
}
