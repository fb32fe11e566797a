import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../src/lib/batcher.ts';
import { StallTracker } from '../../../src/lib/progress.ts';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('writes a full batch at once, and a lone item only after the delay', async () => {
    const writes: number[][] = [];
    const b = new Batcher<number>({ maxItems: 3, maxDelayMs: 40, write: async (items) => void writes.push(items) });
    await Promise.all([1, 2, 3].map((n) => b.add(n)));
    expect(writes).toEqual([[1, 2, 3]]);
    const lone = b.add(4);
    await tick(5);
    expect(writes).toEqual([[1, 2, 3]]);
    await lone;
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('writes one batch at a time and batches what arrives meanwhile', async () => {
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
    await tick(5);
    const rest = Array.from({ length: 6 }, (_, i) => b.add(i + 1));
    await Promise.all([first, ...rest]);
    expect(most).toBe(1);
    expect(writes).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
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

  it('waits out a failed write on its clock, for the backoff the retry asks', async () => {
    // A clock that answers every sleep at once and records it: no real waiting, no fake timers.
    const slept: number[] = [];
    const clock = {
      now: () => 0,
      sleep: (ms: number): Promise<boolean> => {
        slept.push(ms);
        return Promise.resolve(true);
      },
    };
    let failures = 3;
    const b = new Batcher<string>({
      maxItems: 10,
      maxDelayMs: 0,
      retryMinMs: 1_000,
      retryMaxMs: 3_000,
      clock,
      write: async () => {
        if (failures-- > 0) throw new Error('database down');
      },
    });
    expect(await b.add('a')).toBe('written');
    // 1 s, 2 s, then the 3 s cap, each with 50-100% jitter.
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
