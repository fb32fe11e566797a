/**
 * The statements benchmark's split of a call's cost into what every call pays and what each
 * message adds (test/bench/statements.ts, fitCallCost).
 */
import { describe, expect, it } from 'vitest';
import { fitCallCost } from '../../bench/statements.ts';

describe('fitCallCost', () => {
  it('finds the fixed and per-message parts of costs on a line', () => {
    const fit = fitCallCost([
      { size: 1, perCall: 450 },
      { size: 10, perCall: 900 },
      { size: 100, perCall: 5_400 },
    ]);
    expect(fit?.fixed).toBeCloseTo(400, 9);
    expect(fit?.perItem).toBeCloseTo(50, 9);
  });

  it('is the least-squares line when the points are not on one', () => {
    // Through (1, 10), (2, 30), (3, 30): slope 10, intercept 10/3.
    const fit = fitCallCost([
      { size: 1, perCall: 10 },
      { size: 2, perCall: 30 },
      { size: 3, perCall: 30 },
    ]);
    expect(fit?.perItem).toBeCloseTo(10, 9);
    expect(fit?.fixed).toBeCloseTo(10 / 3, 9);
  });

  it('has no answer with one size only', () => {
    expect(fitCallCost([{ size: 10, perCall: 900 }])).toBeUndefined();
    expect(
      fitCallCost([
        { size: 10, perCall: 900 },
        { size: 10, perCall: 950 },
      ]),
    ).toBeUndefined();
  });
});
