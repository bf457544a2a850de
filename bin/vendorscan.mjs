#!/usr/bin/env node
// The `vendorscan` command. Node ≥ 24 runs the TypeScript sources directly (type stripping), so
// there is no build step and no transpiler between a checkout and a scan.
await import('../cli/main.ts');
