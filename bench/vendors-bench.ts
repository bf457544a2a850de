// `node bench/vendors-bench.ts`: /v1/vendors under load (issue 13 M9). 1M findings over 200,000
// store paths in a fresh database on the machine's PostgreSQL, `vendorscan serve` on it, and wrk
// (Debian's `wrk`) with 16 connections on loopback: req/s and p99 of the first page, then single
// deep pages (keyset `after`, and `offset`), and /v1/libraries. Targets: ≥ 200 req/s and p99 ≤
// 250 ms for the first page, no page slower than 500 ms.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { seedMillionFindings } from '../test/helpers/seed-findings.ts';

const ADMIN = process.env['VENDORSCAN_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = process.env['BENCH_SECONDS'] ?? '10';
const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'vendorscan.mjs');
const log = (s: string): void => void process.stdout.write(`${s}\n`);

// BENCH_DB: reuse a database a run with BENCH_KEEP=1 left (seeding takes a minute).
const reuse = process.env['BENCH_DB'];
const name = reuse ?? `vendorscan_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
if (!reuse) await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN);
url.pathname = `/${name}`;
const db = await openDatabase({ url: url.href });
let server: ReturnType<typeof spawn> | null = null;
try {
  await migrate(db);
  log(reuse ? `reusing ${reuse}` : 'seeding 1,000,000 findings over 200,000 store paths…');
  const seeded = Date.now();
  if (!reuse) await seedMillionFindings(db);
  log(`seeded in ${((Date.now() - seeded) / 1000).toFixed(0)} s`);
  const port = await freePort();
  server = spawn(process.execPath, [bin, 'serve', '--port', String(port)], { env: { ...process.env, DATABASE_URL: url.href, VENDORSCAN_CACHE: 'file:///nonexistent' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  server.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (err.includes('vendorscan API on')) break;
    if (i > 600) throw new Error(`serve did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const first = `${base}/v1/vendors?library=libwebp&version=%3C1.2&run=1&limit=100`;
  const timed = async (u: string): Promise<{ ms: number; body: Record<string, unknown> }> => {
    const t = performance.now();
    const r = await fetch(u);
    const body = (await r.json()) as Record<string, unknown>;
    if (r.status !== 200) throw new Error(`${u}: HTTP ${r.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - t, body };
  };
  const warm = await timed(first);
  log(`first request (counts the total once): ${warm.ms.toFixed(0)} ms, total ${warm.body['total']} (${warm.body['totalSource']})`);
  if (process.env['BENCH_PROFILE'] === '1') {
    for (let i = 0; i < 3; i++) log(`first page again: ${(await timed(first)).ms.toFixed(0)} ms`);
    log(`same, limit=1: ${(await timed(first.replace('limit=100', 'limit=1'))).ms.toFixed(0)} ms`);
  }
  const wrk = spawnSync('wrk', ['-t2', '-c16', `-d${DURATION}s`, '--latency', first], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1];
  const p99 = /99%\s+([\d.]+\w+)/.exec(wrk.stdout)?.[1];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(wrk.stdout)?.[1] ?? '0';
  log(`first page, 16 connections, ${DURATION} s: ${rps} req/s, p99 ${p99}, non-2xx ${errors}`);
  // Deep pages: keyset from a cursor near the end, and the old offset way.
  const lastPath = `/nix/store/${'0'.repeat(32 - 6)}199990-pkg199990-1.0`;
  const cursor = Buffer.from(JSON.stringify([lastPath, '', ''])).toString('base64url');
  const deep = await timed(`${first}&after=${cursor}`);
  log(`deep keyset page (after the 199,990th store path): ${deep.ms.toFixed(0)} ms, ${(deep.body['results'] as unknown[]).length} rows`);
  const mid = Buffer.from(JSON.stringify([`/nix/store/${'0'.repeat(32 - 6)}100000-pkg100000-1.0`, '', ''])).toString('base64url');
  log(`middle keyset page: ${(await timed(`${first}&after=${mid}`)).ms.toFixed(0)} ms`);
  log(`offset=114000 page: ${(await timed(`${first}&offset=114000`)).ms.toFixed(0)} ms`);
  log(`/v1/libraries?run=1: ${(await timed(`${base}/v1/libraries?run=1`)).ms.toFixed(0)} ms`);
  process.stdout.write(wrk.stdout);
} finally {
  server?.kill('SIGKILL');
  await db.close();
  if (process.env['BENCH_KEEP'] === '1' || reuse) log(`kept database ${name}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
