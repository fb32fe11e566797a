import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../src/lib/batcher.ts';

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
    void b.add('a');
    void b.add('b');
    await b.flush();
    expect(written).toEqual([['a', 'b']]);
    expect(errors).toEqual([1, 2]);
  });
});
