import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one Postgres and one Redis: each test file isolates itself with its
    // own schema and key prefix, so files can run in parallel on the 2-core machines.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
