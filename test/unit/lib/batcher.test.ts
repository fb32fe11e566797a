import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherTimers } from '../../../src/lib/batcher.ts';
import { StallTracker } from '../../../src/lib/progress.ts';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('writes a full batch at once, and a lone item exactly when the delay is up', async () => {
    vi.useFakeTimers();
    const writes: number[][] = [];
    const b = new Batcher<number>({ maxItems: 3, maxDelayMs: 40, write: async (items) => void writes.push(items) });
    await Promise.all([1, 2, 3].map((n) => b.add(n)));
    expect(writes).toEqual([[1, 2, 3]]);
    const lone = b.add(4);
    await vi.advanceTimersByTimeAsync(39);
    expect(writes).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes).toEqual([[1, 2, 3], [4]]);
    await lone;
  });

  it('queues many items nobody waits on in one call: written in batches of maxItems back to back, poison set aside', async () => {
    vi.useFakeTimers();
    const writes: number[][] = [];
    const setAside: number[] = [];
    const b = new Batcher<number>({
      maxItems: 4,
      maxDelayMs: 40,
      classify: () => 'poison',
      write: async (items) => {
        if (items.includes(6)) throw new Error('refused');
        writes.push(items);
      },
      onPoison: async (item) => void setAside.push(item),
    });
    b.addAll([1, 2, 3, 4, 5, 6]);
    expect(b.pending).toBe(6);
    await vi.advanceTimersByTimeAsync(0);
    // The rest goes as soon as the first batch is written, without waiting for the delay.
    expect(writes).toEqual([[1, 2, 3, 4], [5]]);
    await b.flush();
    expect(setAside).toEqual([6]);
    expect(b.pending).toBe(0);
  });

  it('a group added together resolves once, when its last item is written, across batches and a retry', async () => {
    vi.useFakeTimers();
    const writes: number[][] = [];
    let failOnce = true;
    const b = new Batcher<number>({
      maxItems: 2,
      maxDelayMs: 40,
      retryMinMs: 10,
      retryMaxMs: 10,
      write: async (items) => {
        if (items.includes(3) && failOnce) {
          failOnce = false;
          throw new Error('Postgres is restarting');
        }
        writes.push(items);
      },
    });
    let resolved = false;
    const group = b.addEach([1, 2, 3]).then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    // [1, 2] written at once (a full batch), then [3] right behind it, which fails once.
    expect(writes).toEqual([[1, 2]]);
    expect(failOnce).toBe(false);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(writes).toEqual([[1, 2], [3]]);
    await group;
    expect(resolved).toBe(true);
    expect(b.pending).toBe(0);
    await b.addEach([]);
  });

  it('waits on the timers it is given', async () => {
    const scheduled: { fn: () => void; ms: number }[] = [];
    const timers: BatcherTimers = { setTimeout: (fn, ms) => scheduled.push({ fn, ms }), clearTimeout: () => {} };
    let failures = 1;
    const writes: string[][] = [];
    const b = new Batcher<string>({
      maxItems: 10,
      maxDelayMs: 250,
      retryMinMs: 1000,
      retryMaxMs: 1000,
      timers,
      write: async (items) => {
        if (failures-- > 0) throw new Error('database down');
        writes.push(items);
      },
    });
    const added = b.add('a');
    expect(scheduled.map((s) => s.ms)).toEqual([250]);
    scheduled[0]!.fn();
    await vi.waitFor(() => expect(scheduled).toHaveLength(2));
    // The retry waits the backoff (1 s, jitter 50-100%) on the same timers.
    expect(scheduled[1]!.ms).toBeGreaterThanOrEqual(500);
    expect(scheduled[1]!.ms).toBeLessThanOrEqual(1000);
    expect(writes).toEqual([]);
    scheduled[1]!.fn();
    expect(await added).toBe('written');
    expect(writes).toEqual([['a']]);
  });

  it('with flushWhenIdle, items arriving while idle are written together at the end of the turn, not after the delay', async () => {
    const writes: number[][] = [];
    const b = new Batcher<number>({ maxItems: 100, maxDelayMs: 60_000, flushWhenIdle: true, write: async (items) => void writes.push(items) });
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    expect(writes).toEqual([[1, 2, 3]]);
    await b.add(4);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('writes one batch at a time and batches what arrives meanwhile', async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    let most = 0;
    const writes: number[][] = [];
    const b = new Batcher<number>({
      maxItems: 4,
      maxDelayMs: 1,
      write: async (items) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick(20);
        writes.push(items);
        inFlight--;
      },
    });
    const first = b.add(0);
    // The lone item's delay (1 ms) is up: its write has started and takes 20 ms.
    await vi.advanceTimersByTimeAsync(5);
    expect(inFlight).toBe(1);
    const rest = Array.from({ length: 6 }, (_, i) => b.add(i + 1));
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, ...rest]);
    expect(most).toBe(1);
    expect(writes).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
    expect(b.pending).toBe(0);
  });

  it('with maxWrites 2, a batch starts while one is written, the next waits for a free write; pending and flush count both', async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    let most = 0;
    const writes: { items: number[]; startedAt: number }[] = [];
    const b = new Batcher<number>({
      maxItems: 3,
      maxDelayMs: 60_000,
      flushWhenIdle: true,
      maxWrites: 2,
      write: async (items) => {
        inFlight++;
        most = Math.max(most, inFlight);
        writes.push({ items, startedAt: Date.now() });
        await tick(20);
        inFlight--;
      },
    });
    const t0 = Date.now();
    const first = b.add(0);
    await vi.advanceTimersByTimeAsync(5);
    expect(inFlight).toBe(1);
    // A free write: what arrives in this turn goes at the end of it, beside the first.
    const second = [b.add(1), b.add(2)];
    await vi.advanceTimersByTimeAsync(1);
    expect(inFlight).toBe(2);
    // Both writes busy: these wait (as a full batch, then a partial one) for one to finish.
    const rest = [3, 4, 5, 6].map((n) => b.add(n));
    await vi.advanceTimersByTimeAsync(1);
    expect(b.pending).toBe(7);
    const flushed = b.flush();
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, ...second, ...rest, flushed]);
    expect(most).toBe(2);
    expect(writes.map((w) => [w.items, w.startedAt - t0])).toEqual([
      [[0], 0],
      [[1, 2], 5],
      [[3, 4, 5], 20],
      [[6], 25],
    ]);
    expect(b.pending).toBe(0);
  });

  it('retries a failed write with the same items, and flush waits for everything', async () => {
    let failures = 2;
    const errors: number[] = [];
    const written: string[][] = [];
    const b = new Batcher<string>({
      maxItems: 10,
      maxDelayMs: 1,
      retryMinMs: 1,
      retryMaxMs: 2,
      write: async (items) => {
        if (failures-- > 0) throw new Error('database down');
        written.push(items);
      },
      onError: (_err, _items, attempt) => errors.push(attempt),
    });
    const added = [b.add('a'), b.add('b')];
    await b.flush();
    await Promise.all(added);
    expect(written).toEqual([['a', 'b']]);
    expect(errors).toEqual([1, 2]);
  });

  it('waits out a failed write on its timers, for the backoff the retry asks', async () => {
    // Timers that fire every wait at once and record it: no real waiting.
    const slept: number[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number): unknown => {
        slept.push(ms);
        queueMicrotask(fn);
        return ms;
      },
      clearTimeout: (): void => {},
    };
    let failures = 3;
    const b = new Batcher<string>({
      maxItems: 10,
      maxDelayMs: 0,
      retryMinMs: 1_000,
      retryMaxMs: 3_000,
      timers,
      write: async () => {
        if (failures-- > 0) throw new Error('database down');
      },
    });
    expect(await b.add('a')).toBe('written');
    // The batch delay (0 ms) first, then 1 s, 2 s and the 3 s cap, each with 50-100% jitter.
    expect(slept.shift()).toBe(0);
    expect(slept).toHaveLength(3);
    expect(slept[0]).toBeGreaterThanOrEqual(500);
    expect(slept[0]).toBeLessThanOrEqual(1_000);
    expect(slept[1]).toBeGreaterThanOrEqual(1_000);
    expect(slept[1]).toBeLessThanOrEqual(2_000);
    expect(slept[2]).toBeGreaterThanOrEqual(1_500);
    expect(slept[2]).toBeLessThanOrEqual(3_000);
  });

  describe('split on poison', () => {
    /** A store that refuses some values as poison (a SQLSTATE no retry fixes) and records the rest. */
    const poisonStore = (poison: (n: number) => boolean) => {
      const written: number[] = [];
      const writes: number[][] = [];
      return {
        written,
        writes,
        write: async (items: number[]) => {
          writes.push(items);
          if (items.some(poison)) throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
          written.push(...items);
        },
      };
    };

    const cases: { name: string; items: number[]; poison: number[]; maxWrites: number }[] = [
      { name: 'one poison item first', items: [0, 1, 2, 3, 4, 5, 6, 7], poison: [0], maxWrites: 1 + 2 * 3 },
      { name: 'one poison item last', items: [0, 1, 2, 3, 4, 5, 6, 7], poison: [7], maxWrites: 1 + 2 * 3 },
      { name: 'one poison item in the middle of an odd batch', items: [0, 1, 2, 3, 4, 5, 6], poison: [3], maxWrites: 1 + 2 * 3 },
      { name: 'two poison items', items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], poison: [2, 9], maxWrites: 1 + 4 * 4 },
      { name: 'every item poison', items: [0, 1, 2, 3], poison: [0, 1, 2, 3], maxWrites: 7 },
      { name: 'a batch of one poison item', items: [5], poison: [5], maxWrites: 1 },
    ];
    for (const c of cases) {
      it(`${c.name}: the poison is set aside with its error, the rest written once, in order`, async () => {
        const store = poisonStore((n) => c.poison.includes(n));
        const aside: { item: number; code: string }[] = [];
        const b = new Batcher<number>({
          maxItems: 100,
          maxDelayMs: 1,
          retryMinMs: 1,
          retryMaxMs: 2,
          write: store.write,
          onPoison: async (item, err) => void aside.push({ item, code: (err as { code: string }).code }),
        });
        const outcomes = await Promise.all(c.items.map((n) => b.add(n)));
        expect(aside.map((a) => a.item)).toEqual(c.poison);
        expect(aside.every((a) => a.code === '22P05')).toBe(true);
        const valid = c.items.filter((n) => !c.poison.includes(n));
        expect(store.written).toEqual(valid);
        expect(outcomes).toEqual(c.items.map((n) => (c.poison.includes(n) ? 'set_aside' : 'written')));
        expect(store.writes.length).toBeLessThanOrEqual(c.maxWrites);
        expect(b.pending).toBe(0);
      });
    }

    it('a transient fault is retried with the whole batch, never split nor set aside', async () => {
      let down = 3;
      const writes: number[][] = [];
      const aside: number[] = [];
      const b = new Batcher<number>({
        maxItems: 10,
        maxDelayMs: 1,
        retryMinMs: 1,
        retryMaxMs: 2,
        write: async (items) => {
          writes.push(items);
          if (down-- > 0) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        },
        onPoison: async (item) => void aside.push(item),
      });
      await Promise.all([1, 2, 3, 4].map((n) => b.add(n)));
      expect(aside).toEqual([]);
      expect(writes).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    });

    it('a transient fault while splitting retries only the chunk it hit: nothing is written twice', async () => {
      const written: number[] = [];
      let outage = 2;
      const b = new Batcher<number>({
        maxItems: 10,
        maxDelayMs: 1,
        retryMinMs: 1,
        retryMaxMs: 2,
        write: async (items) => {
          if (items.includes(1)) throw Object.assign(new Error('bad'), { code: '22021' });
          // The Postgres restart hits the second half of the split.
          if (items.includes(3) && outage-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          written.push(...items);
        },
        onPoison: async () => {},
      });
      await Promise.all([0, 1, 2, 3].map((n) => b.add(n)));
      expect(written.sort()).toEqual([0, 2, 3]);
    });

    it('a set-aside action that fails is retried until it holds: the item is never dropped', async () => {
      let asideFailures = 2;
      const aside: number[] = [];
      const errors: unknown[] = [];
      const b = new Batcher<number>({
        maxItems: 10,
        maxDelayMs: 1,
        retryMinMs: 1,
        retryMaxMs: 2,
        write: async (items) => {
          if (items.includes(9)) throw Object.assign(new Error('bad'), { code: '22P05' });
        },
        onPoison: async (item) => {
          if (asideFailures-- > 0) throw Object.assign(new Error('Connection terminated unexpectedly'), {});
          aside.push(item);
        },
        onError: (err) => errors.push(err),
      });
      expect(await b.add(9)).toBe('set_aside');
      expect(aside).toEqual([9]);
      expect(errors).toHaveLength(3);
    });

    it('items behind a poison batch are written in the next batch, not held', async () => {
      const writes: number[][] = [];
      const b = new Batcher<number>({
        maxItems: 2,
        maxDelayMs: 1,
        retryMinMs: 1,
        retryMaxMs: 2,
        write: async (items) => {
          writes.push(items);
          if (items.includes(0)) throw Object.assign(new Error('bad'), { code: '22P05' });
        },
        onPoison: async () => {},
      });
      await Promise.all([0, 1, 2, 3].map((n) => b.add(n)));
      expect(writes).toEqual([[0, 1], [0], [1], [2, 3]]);
    });

    it('reports waiting items and progress: stalled while a write hangs, not after', async () => {
      let now = 1_000;
      const tracker = new StallTracker(60_000, () => now);
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const b = new Batcher<number>({
        maxItems: 2,
        maxDelayMs: 1,
        write: async () => gate,
        progress: tracker.progress('receipts'),
      });
      const added = Promise.all([b.add(1), b.add(2)]);
      expect(tracker.stalled()).toEqual([]);
      now += 60_000;
      expect(tracker.stalled()).toEqual([{ pipeline: 'receipts', stalledMs: 60_000, pending: 2 }]);
      release();
      await added;
      expect(tracker.stalled()).toEqual([]);
      expect(tracker.report()).toEqual([{ pipeline: 'receipts', stalledMs: 0, pending: 0 }]);
    });
  });
});
