import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one Postgres and one Redis: each test file isolates itself with its
    // own schema and key prefix, so files can run in parallel on the 2-core machines.
    pool: 'forks',
    testTimeout: 30_000,
    // Integration tests run real daemons, simulators and databases side by side on a shared
    // 2-core machine; a test that loses a race for the CPU gets one more run. A real failure fails
    // twice, and vitest reports every retry.
    retry: 1,
    hookTimeout: 30_000,
  },
});
