// The dashboard's library page on a big store: server time (request in, HTML out, through
// Fastify's inject, no browser) of its first page, a filtered and sorted page, a deep page and
// the overview, on PostgreSQL holding N findings (default 100,000, all libpng: the issue's
// target is "under a second"). `node bench/dashboard-bench.ts [findings] [libraries]` spreads the
// findings over that many libraries (libpng first), as a real store of a million findings is
// spread. Not asserted anywhere.
import pg from 'pg';
import { buildApi } from '../services/api/app.ts';
import { loadConfig } from '../services/config.ts';
import { openRuntime } from '../services/runtime.ts';
import { seedManyFindings } from '../test/helpers/many-findings.ts';

const PER_PATH = 100;
const LIBRARIES = ['libpng', 'zlib', 'expat', 'libjpeg-turbo', 'openssl', 'libcurl', 'sqlite', 'freetype', 'libwebp', 'libvpx'];

export async function dashboardBench(findings = 100_000, libraries = 1): Promise<void> {
  const admin = process.env['VENDORSCAN_BENCH_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `vendorscan_dash_bench_${process.pid}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const runtime = await openRuntime(loadConfig({ DATABASE_URL: url.href }), { threads: 1 });
  try {
    const seedStart = Date.now();
    const runId = await seedManyFindings(runtime.db, Math.ceil(findings / PER_PATH), PER_PATH, LIBRARIES.slice(0, libraries));
    await runtime.db.query('ANALYZE');
    console.log(`dashboard: ${findings} findings over ${libraries} ${libraries === 1 ? 'library' : 'libraries'} (${Math.round(findings / libraries)} of libpng) seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s (run ${runId})`);
    const app = await buildApi({ ...runtime, apiToken: null });
    const pages: [string, string][] = [
      ['library page 1', '/libraries/libpng'],
      ['library filtered+sorted', '/libraries/libpng?version=%3C1.6.40&confidence=high&sort=version&order=desc'],
      ['library deep page', `/libraries/libpng?offset=${Math.round(findings / libraries) - 200}`],
      ['overview', '/'],
    ];
    for (const [label, path] of pages) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const r = await app.inject({ method: 'GET', url: path });
        times.push(performance.now() - start);
        if (r.statusCode !== 200) throw new Error(`${path}: HTTP ${r.statusCode}`);
      }
      const first = times[0] ?? 0;
      times.sort((a, b) => a - b);
      console.log(`dashboard: ${label.padEnd(24)} first ${first.toFixed(0)} ms, median of 5 ${times[2]?.toFixed(0)} ms (target < 1000 ms of server time)`);
    }
    await app.close();
  } finally {
    await runtime.close();
    await client.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await client.end();
  }
}

if (import.meta.main) await dashboardBench(process.argv[2] ? Number(process.argv[2]) : undefined, process.argv[3] ? Number(process.argv[3]) : undefined);
