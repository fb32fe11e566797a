import { describe, expect, it } from 'vitest';
import { comparePairs, figuresOf, type RunFigures } from '../../bench/ab-compare.ts';

const run = (finalRate: number | undefined, submitRate: number, daemonUs: number, wal: { walBytes: number | undefined } = { walBytes: 3_800 }): RunFigures => ({
  finalRate,
  submitRate,
  daemonUs,
  postgresUs: 180,
  walBytes: wal.walBytes,
});

describe('comparePairs', () => {
  it('gives each side\'s median, the ratio, and the pairs where the tree under test did better (higher rates, lower costs)', () => {
    const compared = comparePairs([
      { base: run(3_000, 4_000, 200), head: run(3_600, 5_000, 190) },
      { base: run(3_400, 4_800, 180), head: run(3_300, 5_200, 180) },
      { base: run(3_200, 4_600, 210), head: run(3_700, 5_400, 170) },
    ]);
    const byLabel = new Map(compared.map((c) => [c.label, c]));
    expect(byLabel.get('final msg/s')).toEqual({ label: 'final msg/s', base: 3_200, head: 3_600, ratio: 3_600 / 3_200, better: 2, pairs: 3 });
    expect(byLabel.get('submit msg/s')!.better).toBe(3);
    // Equal is not better: 180 against 180 counts for neither side.
    expect(byLabel.get('daemon µs/msg')).toMatchObject({ base: 200, head: 180, better: 2, pairs: 3 });
    expect(byLabel.get('postgres µs/msg')).toMatchObject({ ratio: 1, better: 0 });
  });

  it('leaves out a figure a run lacks (no receipts; a base whose results had no WAL yet) from those pairs only', () => {
    const compared = comparePairs([
      { base: run(undefined, 4_000, 200, { walBytes: undefined }), head: run(undefined, 5_000, 190) },
      { base: run(3_000, 4_000, 200), head: run(3_100, 5_000, 190, { walBytes: 3_700 }) },
    ]);
    const byLabel = new Map(compared.map((c) => [c.label, c]));
    expect(byLabel.get('final msg/s')).toMatchObject({ pairs: 1, better: 1 });
    expect(byLabel.get('WAL B/msg')).toMatchObject({ base: 3_800, head: 3_700, pairs: 1, better: 1 });
    expect(comparePairs([{ base: run(undefined, 1, 1), head: run(undefined, 1, 1) }]).map((c) => c.label)).not.toContain('final msg/s');
  });
});

describe('figuresOf', () => {
  it('turns a run\'s totals into costs per message', () => {
    expect(figuresOf({ binds: 1, count: 20_000, finalRate: 3_500, delivered: 20_000, submitRate: 5_000, daemonCpuMs: 4_000, postgresCpuMs: 3_600, walBytes: 76_000_000 })).toEqual({
      finalRate: 3_500,
      submitRate: 5_000,
      daemonUs: 200,
      postgresUs: 180,
      walBytes: 3_800,
    });
  });
});
