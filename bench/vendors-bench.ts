// `node bench/vendors-bench.ts`: /v1/vendors under load (issue 13 M9). 1M findings over 200,000
// store paths in a fresh database on the machine's PostgreSQL, `vendorscan serve` on it, and wrk
// (Debian's `wrk`) with 16 connections on loopback: req/s and p99 of the first page, of a page
// 100,000 rows deep by keyset (`after`, reached by following `next`) and by offset, single deep
// pages of other sorts, and /v1/libraries. Targets: ≥ 200 req/s and p99 ≤ 250 ms for the first
// page, no page slower than 500 ms. The load average is printed beside each figure.
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { storeLibraryCounts } from '../store/queries.ts';
import { freePort } from '../test/helpers/free-port.ts';
import { seedMillionFindings } from '../test/helpers/seed-findings.ts';
import { V8_FLAGS } from '../bin/v8-flags.mjs';

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
  // The seed writes run 1 as completed; a real run's completion counts its libraries (store/runs.ts).
  const counting = Date.now();
  await storeLibraryCounts(db, 1);
  log(`library counts stored as at the run's completion: ${((Date.now() - counting) / 1000).toFixed(1)} s`);
  const port = await freePort();
  // The serve process itself (no re-exec wrapper, whose SIGKILL would leave the real one holding the pipe open).
  server = spawn(process.execPath, [...V8_FLAGS, bin, 'serve', '--port', String(port)], {
    env: { ...process.env, DATABASE_URL: url.href, VENDORSCAN_CACHE: 'file:///nonexistent', VENDORSCAN_NO_REEXEC: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
  const libs = `${base}/v1/libraries?run=1`;
  log(`/v1/libraries?run=1, first call (stored counts; coverage counted once): ${(await timed(libs)).ms.toFixed(0)} ms, then ${(await timed(libs)).ms.toFixed(0)} ms`);
  if (process.env['BENCH_PROFILE'] === '1') {
    for (let i = 0; i < 3; i++) log(`first page again: ${(await timed(first)).ms.toFixed(0)} ms`);
    log(`same, limit=1: ${(await timed(first.replace('limit=100', 'limit=1'))).ms.toFixed(0)} ms`);
  }
  const load = (label: string, u: string): string => {
    const wrk = spawnSync('wrk', ['-t2', '-c16', `-d${DURATION}s`, '--latency', u], { encoding: 'utf8' });
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1];
    const p99 = /99%\s+([\d.]+\w+)/.exec(wrk.stdout)?.[1];
    const max = /Latency(?:\s+\S+){2}\s+(\S+)/.exec(wrk.stdout)?.[1];
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(wrk.stdout)?.[1] ?? '0';
    const timeouts = /timeout (\d+)/.exec(wrk.stdout)?.[1] ?? '0';
    log(`${label}, 16 connections, ${DURATION} s: ${rps} req/s, p99 ${p99}, max ${max}, non-2xx ${errors}, timeouts ${timeouts} (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    return wrk.stdout;
  };
  const firstOut = load('first page', first);
  // Deep pages over every libwebp copy (200,000): `next` followed 5,000 rows at a time to ~100,000
  // rows deep, then one page of 100 from there; and the same depth by offset (the middle of the
  // answer, the worst case for reading from the end).
  const all = `${base}/v1/vendors?library=libwebp&run=1`;
  let after = '';
  for (let depth = 0; depth < 100_000; depth += 5000) {
    const hop = await timed(`${all}&limit=5000${after ? `&after=${after}` : ''}`);
    after = String(hop.body['next']);
  }
  const deepKeyset = `${all}&limit=100&after=${after}`;
  const deepOffset = `${all}&limit=100&offset=100000`;
  const k = await timed(deepKeyset);
  const o = await timed(deepOffset);
  const same = JSON.stringify(k.body['results']) === JSON.stringify(o.body['results']);
  log(`page at 100,000 rows deep, alone: keyset ${k.ms.toFixed(0)} ms, offset ${o.ms.toFixed(0)} ms (same rows: ${same})`);
  for (const sort of ['version&order=desc', 'package']) {
    let c = '';
    for (let depth = 0; depth < 100_000; depth += 5000) c = String((await timed(`${all}&sort=${sort}&limit=5000${c ? `&after=${c}` : ''}`)).body['next']);
    log(`sort=${sort}, keyset page 100,000 rows deep, alone: ${(await timed(`${all}&sort=${sort}&limit=100&after=${c}`)).ms.toFixed(0)} ms; offset: ${(await timed(`${all}&sort=${sort}&limit=100&offset=100000`)).ms.toFixed(0)} ms`);
  }
  load('deep keyset page (100,000 rows deep)', deepKeyset);
  load('deep offset page (offset=100000)', deepOffset);
  log(`/v1/libraries?run=1 right after the offset load (queued behind the slow offset queries it left): ${(await timed(libs)).ms.toFixed(0)} ms`);
  process.stdout.write(firstOut);
} finally {
  server?.kill('SIGKILL');
  await db.close();
  if (process.env['BENCH_KEEP'] === '1' || reuse) log(`kept database ${name}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
