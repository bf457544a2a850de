#!/usr/bin/env node
// The `vendorscan` command. Node ≥ 24 runs the TypeScript sources directly (type stripping), so
// there is no build step and no transpiler between a checkout and a scan.
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
