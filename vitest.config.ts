import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests share one Postgres and one Redis: each test file isolates itself with its
    // own schema and key prefix, so files can run in parallel on the 2-core machines.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `vitest run` runs both projects; `--project unit` / `--project integration` runs one.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests own their clock and their inputs: a failure is a bug, never a lost race, so
          // they get no second run that would hide it.
          retry: 0,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Integration tests run real daemons, simulators and databases side by side on a shared
          // 2-core machine; a test that loses a race for the CPU gets one more run. A real failure
          // fails twice, and vitest reports every retry.
          retry: 1,
        },
      },
    ],
  },
});
