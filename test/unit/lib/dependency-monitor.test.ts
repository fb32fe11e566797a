import { describe, expect, it } from 'vitest';
import { DependencyMonitor, type DependencyStatus } from '../../../src/lib/dependency-monitor.ts';

function fakeProbes() {
  const answers = { postgres: true, redis: true, redisHangs: false };
  const probes = {
    postgres: async () => {
      if (!answers.postgres) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    },
    redis: () => (answers.redisHangs ? new Promise<void>(() => undefined) : Promise.resolve()),
  };
  return { answers, probes };
}

describe('DependencyMonitor', () => {
  it('reports a dependency down by name with its reason, and up again, telling each transition once', async () => {
    const { answers, probes } = fakeProbes();
    let now = 1_000;
    const changes: DependencyStatus[] = [];
    const monitor = new DependencyMonitor({ probes, timeoutMs: 50, onChange: (s) => changes.push(s), now: () => now });
    await monitor.probeAll();
    expect(monitor.problems()).toEqual([]);
    expect(changes).toEqual([]);

    answers.postgres = false;
    await monitor.probeAll();
    now += 3_000;
    await monitor.probeAll();
    expect(monitor.status('postgres').up).toBe(false);
    expect(monitor.downForMs('postgres')).toBe(3_000);
    expect(monitor.problems()).toEqual(['postgres: down for 3 s (connect ECONNREFUSED 127.0.0.1:5432)']);
    expect(changes.map((c) => [c.name, c.up])).toEqual([['postgres', false]]);

    answers.postgres = true;
    await monitor.probeAll();
    expect(monitor.problems()).toEqual([]);
    expect(monitor.downForMs('postgres')).toBe(0);
    expect(changes.map((c) => [c.name, c.up])).toEqual([
      ['postgres', false],
      ['postgres', true],
    ]);
  });

  it('a probe that does not answer within the timeout counts as down, so readiness never hangs', async () => {
    const { answers, probes } = fakeProbes();
    const monitor = new DependencyMonitor({ probes, timeoutMs: 30 });
    answers.redisHangs = true;
    await monitor.probeAll();
    expect(monitor.status('redis')).toMatchObject({ up: false, reason: 'no answer within 30 ms' });
    expect(monitor.problems()[0]).toMatch(/^redis: down for \d+ s \(no answer within 30 ms\)$/);
    expect(monitor.status('postgres').up).toBe(true);
  });

  it('nudge probes at once; probes of one dependency do not pile up', async () => {
    let calls = 0;
    let release!: () => void;
    const monitor = new DependencyMonitor({
      probes: {
        postgres: () => {
          calls++;
          return new Promise<void>((r) => (release = r));
        },
        redis: async () => undefined,
      },
      timeoutMs: 1_000,
    });
    monitor.nudge('postgres');
    monitor.nudge('postgres');
    const all = monitor.probeAll();
    expect(calls).toBe(1);
    release();
    await all;
    expect(monitor.status('postgres').up).toBe(true);
  });
});
