import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests share one Postgres and one Redis: each test file isolates itself with its
    // own schema and key prefix, so files can run in parallel on the 2-core machines.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: on these 2-core machines, one file at a
    // time, though most of an integration test's time is spent waiting (on daemons, simulators,
    // timers, Postgres). Three at once measured 331-338 s for the suite against 537 s; four were no
    // faster (342 s) and starved the timing tests (scale-out's 200 TPS, the build's compile).
    maxWorkers: 3,
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
