import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests share the local Postgres/Redis and build Nix caches; keep files from racing each other.
    fileParallelism: false,
  },
});
