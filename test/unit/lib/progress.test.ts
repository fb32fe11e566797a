import { describe, expect, it } from 'vitest';
import { StallTracker } from '../../../src/lib/progress.ts';

describe('StallTracker', () => {
  it('a pipeline is stalled only while work waits without a step forward for stall_after', () => {
    let now = 0;
    const tracker = new StallTracker(1_000, () => now);
    const intake = tracker.progress('intake');
    const receipts = tracker.progress('receipts');
    now = 5_000;
    // Nothing waiting: never stalled, however long nothing happens.
    expect(tracker.stalled()).toEqual([]);
    intake.waiting(3);
    now += 999;
    expect(tracker.stalled()).toEqual([]);
    now += 1;
    expect(tracker.stalled()).toEqual([{ pipeline: 'intake', stalledMs: 1_000, pending: 3 }]);
    // One step forward restarts the clock for what still waits.
    intake.advanced(1);
    expect(tracker.stalled()).toEqual([]);
    now += 1_500;
    expect(tracker.stalled().map((s) => s.pipeline)).toEqual(['intake']);
    intake.advanced(2);
    expect(tracker.stalled()).toEqual([]);
    expect(tracker.report()).toEqual([
      { pipeline: 'intake', stalledMs: 0, pending: 0 },
      { pipeline: 'receipts', stalledMs: 0, pending: 0 },
    ]);
    receipts.waiting(1);
    now += 2_000;
    // A loop that finds nothing to do says so: counts that drifted (work reclaimed and counted twice) are cleared.
    receipts.idle();
    expect(tracker.stalled()).toEqual([]);
  });

  it('more advanced than waiting never goes negative', () => {
    let now = 0;
    const tracker = new StallTracker(10, () => now);
    const p = tracker.progress('events');
    p.advanced(5);
    p.waiting(1);
    now = 20;
    expect(tracker.stalled()).toEqual([{ pipeline: 'events', stalledMs: 20, pending: 1 }]);
  });
});
