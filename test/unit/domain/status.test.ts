import { describe, expect, it } from 'vitest';
import { SEGMENT_FINAL_ORDER, isBetterMessageStatus, isBetterSegmentStatus } from '../../../src/domain/status.ts';

describe('the best report of a message sent twice', () => {
  it.each([
    ['delivered', 'undeliverable', true],
    ['undeliverable', 'delivered', false],
    ['delivered', 'expired', true],
    ['undeliverable', 'expired', true],
    ['rejected', 'unknown', true],
    ['expired', 'unknown', true],
    ['unknown', 'expired', false],
    ['delivered', 'delivered', false],
  ] as const)('%s over %s: %s', (next, current, better) => {
    expect(isBetterSegmentStatus(next, current)).toBe(better);
  });

  it('ranks every segment final status once, delivered best', () => {
    expect(new Set(SEGMENT_FINAL_ORDER).size).toBe(5);
    expect(SEGMENT_FINAL_ORDER.at(-1)).toBe('delivered');
  });

  it.each([
    ['delivered', 'undeliverable', true],
    ['delivered', 'partially_delivered', true],
    ['partially_delivered', 'undeliverable', true],
    ['undeliverable', 'delivered', false],
    // Only final statuses are ranked: nothing is better than queued or submitted here.
    ['delivered', 'submitted', false],
    ['failed', 'unknown', false],
  ] as const)('message: %s over %s: %s', (next, current, better) => {
    expect(isBetterMessageStatus(next, current)).toBe(better);
  });
});
