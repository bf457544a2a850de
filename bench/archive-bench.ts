// `node bench/archive-bench.ts [archive …]` (Node 24 strips the types): throughput of the archive walker on real
// archives. With no argument it builds a ~50 MB jar (`jar`, data descriptors) and zip (`zip -r`)
// from this machine's largest shared libraries, then walks each in memory and as a stream
// (256 KiB chunks, past an 8 MiB in-memory cap), beside `unzip -p > /dev/null` as a baseline.
// Wall and CPU time both, since the machine is shared. Grammar: none (a benchmark).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArchiveStream, walkArchive } from '../archive/index.ts';

const MiB = 1024 * 1024;
const ROUNDS = 3;

function build(dir: string): string[] {
  const libdir = '/usr/lib/x86_64-linux-gnu';
  const libs = readdirSync(libdir)
    .filter((f) => /\.so(\.|$)/.test(f))
    .map((f) => path.join(libdir, f))
    .filter((f) => statSync(f).isFile())
    .sort((a, b) => statSync(b).size - statSync(a).size);
  mkdirSync(path.join(dir, 'src/natives/linux-x86_64'), { recursive: true });
  let total = 0;
  for (const f of libs) {
    const size = statSync(f).size;
    if (total + size > 150 * MiB) continue;
    copyFileSync(f, path.join(dir, 'src/natives/linux-x86_64', path.basename(f)));
    total += size;
  }
  const sh = (cmd: string): void => void execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: 'inherit' });
  sh('cd src && zip -qr ../libs.zip natives');
  sh('command -v jar >/dev/null && jar cf libs.jar -C src natives || (cd src && zip -qr - natives | cat > ../libs.jar)');
  return [path.join(dir, 'libs.jar'), path.join(dir, 'libs.zip')];
}

function measure(label: string, bytes: number, body: () => { members: number; out: number }): void {
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { members, out } = body();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(
      `${label}: ${members} members, ${(out / MiB).toFixed(1)} MiB out of ${(bytes / MiB).toFixed(1)} MiB; ` +
        `wall ${(wall * 1000).toFixed(0)} ms (${(bytes / MiB / wall).toFixed(0)} MiB/s in), ` +
        `cpu ${(cpu * 1000).toFixed(0)} ms (${(bytes / MiB / cpu).toFixed(0)} MiB/s in, ${(out / MiB / cpu).toFixed(0)} MiB/s out)`,
    );
  }
}

const args = process.argv.slice(2);
const dir = args.length === 0 ? mkdtempSync(path.join(tmpdir(), 'archive-bench-')) : '';
try {
  const files = args.length > 0 ? args : build(dir);
  for (const file of files) {
    const b = new Uint8Array(readFileSync(file));
    const name = path.basename(file);
    measure(`in-memory ${name}`, b.length, () => {
      let out = 0;
      const r = walkArchive(
        b,
        undefined,
        (_p, d) => {
          out += d.length;
        },
        name,
      );
      if (r.warnings.length > 0) console.log(r.warnings.slice(0, 5));
      return { members: r.members, out };
    });
    measure(`streamed  ${name}`, b.length, () => {
      let out = 0;
      const s = new ArchiveStream(name, { maxInMemoryBytes: 8 * MiB }, (_p, d) => {
        out += d.length;
      });
      for (let at = 0; at < b.length; at += 256 * 1024) s.push(b.subarray(at, at + 256 * 1024));
      const r = s.end();
      return { members: r.members, out };
    });
    const t0 = performance.now();
    execFileSync('sh', ['-c', `unzip -p '${file}' > /dev/null`]);
    console.log(`unzip -p  ${name}: wall ${(performance.now() - t0).toFixed(0)} ms`);
  }
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
