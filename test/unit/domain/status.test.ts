import { describe, expect, it } from 'vitest';
import {
  MESSAGE_STATUSES,
  SEGMENT_FINAL_ORDER,
  combineSegmentStatuses,
  isBetterMessageStatus,
  isBetterSegmentStatus,
  isFinalStatus,
  overdueOutcome,
  settleStatus,
  type MessageStatus,
  type SegmentFinalStatus,
} from '../../../src/domain/status.ts';

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

describe('final statuses', () => {
  it.each(MESSAGE_STATUSES.map((s) => [s, !['queued', 'submitted'].includes(s)] as const))('%s is final: %s', (status, final) => {
    expect(isFinalStatus(status)).toBe(final);
  });

  it('a status Parley does not know is not final', () => {
    expect(isFinalStatus('accepted')).toBe(false);
  });
});

describe("a message's status from its segments' final receipts", () => {
  it.each([
    [['delivered'], 'delivered'],
    [['delivered', 'delivered', 'delivered'], 'delivered'],
    [['delivered', 'undeliverable'], 'partially_delivered'],
    [['expired', 'delivered'], 'partially_delivered'],
    [['expired', 'expired'], 'expired'],
    [['rejected'], 'rejected'],
    [['unknown', 'unknown'], 'unknown'],
    [['expired', 'rejected'], 'undeliverable'],
    [['unknown', 'expired', 'undeliverable'], 'undeliverable'],
  ] as const)('%j -> %s', (segments, status) => {
    expect(combineSegmentStatuses(segments as readonly SegmentFinalStatus[])).toBe(status);
  });
});

describe('settling a message once its parts have final receipts', () => {
  const settle = (current: MessageStatus, statuses: string[], segments: number | null = statuses.length, possibleDuplicate = false) =>
    settleStatus({ current, possibleDuplicate, segments, statuses });

  it.each([
    // current, segment statuses, part count, possible duplicate -> new status (undefined: stays)
    ['submitted', ['delivered', 'delivered'], 2, false, 'delivered'],
    ['submitted', ['delivered', 'accepted'], 2, false, undefined],
    ['submitted', ['delivered'], 2, false, undefined],
    ['submitted', ['delivered', 'failed'], 2, false, undefined],
    ['submitted', ['undeliverable'], null, false, undefined],
    ['submitted', ['expired', 'delivered'], 2, false, 'partially_delivered'],
    ['queued', ['delivered'], 1, false, undefined],
    ['undeliverable', ['delivered'], 1, false, undefined],
    ['undeliverable', ['delivered'], 1, true, 'delivered'],
    ['delivered', ['undeliverable'], 1, true, undefined],
    ['expired', ['expired'], 1, true, undefined],
    ['failed', ['delivered'], 1, true, undefined],
  ] as const)('%s with %j of %s parts (duplicate: %s) -> %s', (current, statuses, segments, duplicate, expected) => {
    expect(settle(current, [...statuses], segments, duplicate)?.status).toBe(expected);
  });

  it('reports the final statuses it combined, in part order', () => {
    expect(settle('submitted', ['expired', 'delivered'])?.finals).toEqual(['expired', 'delivered']);
  });
});

describe('the sweep of messages no final receipt reached', () => {
  it('one sent with a validity period expired with it', () => {
    expect(overdueOutcome(3600)).toEqual({ status: 'expired', errorCode: 'no_final_receipt', errorReason: 'no final receipt within the validity period' });
  });

  it('one sent without has an unknown fate', () => {
    expect(overdueOutcome(null)).toEqual({ status: 'unknown', errorCode: 'no_final_receipt', errorReason: 'no final receipt within the receipt horizon' });
  });
});
