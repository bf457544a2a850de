#!/usr/bin/env node
// `node bin/run.mjs FILE.ts [args]`: run one TypeScript entry point (benchmarks, corpus check).
// Kept so that scripts name one runner; Node ≥ 24 loads .ts itself.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
const [entry, ...rest] = process.argv.slice(2);
if (!entry) { console.error('usage: run.mjs FILE.ts [args]'); process.exit(2); }
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(path.resolve(entry)).href);
