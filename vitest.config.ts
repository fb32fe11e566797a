import { defineConfig } from 'vitest/config';

/**
 * Integration tests that check a sending rate against the wall clock (3 daemons holding one route
 * at 200 TPS together, a route's TPS in every one-second window). Beside two other test files,
 * daemons starved of CPU fell below the rate (scale-out: 180-188/s, in 2 of 6 full runs).
 */
const ALONE = ['test/integration/outbound/scale-out.test.ts', 'test/integration/outbound/throttle.test.ts'];

export default defineConfig({
  test: {
    // Integration tests share one Postgres and one Redis: each test file isolates itself with its
    // own schema and key prefix, so files can run in parallel on the 2-core machines.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: on these 2-core machines, one file at a
    // time, though most of an integration test's time is spent waiting (on daemons, simulators,
    // timers, Postgres). Measured for the whole suite: one at a time 537 s, two 413 s, three
    // 314-360 s, four 342 s. Three starved the tests that hold a rate or a memory bound against the
    // clock whenever anything else ran on the machine (ALONE below, the build's compile, the 100 MB
    // webhook answer); two keep a margin for CI on a shared machine.
    maxWorkers: 2,
    // A worker runs its files one after another in one module graph instead of importing the daemon
    // (kysely, pg, ioredis, prom-client, zod, ...) again for each: of 435 s for the whole suite on
    // a 2-core machine, 122 s (summed over both workers) were imports; without isolation the suite
    // took 369-391 s (2 runs, all passed, no retry) and 20% less CPU. So a test file must close what
    // it opens (daemons, pools, servers, fake timers): the client connections to Postgres,
    // sampled every 5 s through a run, fell back to 1-2 between files.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `vitest run` runs every project; `--project unit` / `--project 'integration*'` runs some.
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
          exclude: ALONE,
          // Integration tests run real daemons, simulators and databases side by side on a shared
          // 2-core machine; a test that loses a race for the CPU gets one more run. A real failure
          // fails twice, and vitest reports every retry.
          retry: 1,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration-alone',
          include: ALONE,
          retry: 1,
          // After the others, one file at a time: they measure a rate against the clock.
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
