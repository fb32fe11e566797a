import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../../../src/lib/concurrency-limit.ts';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ConcurrencyLimit', () => {
  it('runs at most `limit` tasks at once, the rest in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) => limit.run(async () => (started.push(i), await g.promise, i)));
    await tick();
    expect(started).toEqual([0, 1]);
    expect([limit.active, limit.queued]).toEqual([2, 2]);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a task that throws', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
  });

  it('a raised limit lets waiting tasks start at once', async () => {
    const limit = new ConcurrencyLimit(1);
    const gate = deferred();
    const started: number[] = [];
    const runs = [0, 1, 2].map((i) => limit.run(async () => (started.push(i), await gate.promise)));
    await tick();
    expect(started).toEqual([0]);
    limit.setLimit(3);
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gate.resolve();
    await Promise.all(runs);
  });

  it('refuses a limit below 1', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  });
});
