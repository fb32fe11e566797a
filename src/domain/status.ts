/**
 * Message statuses (ARCHITECTURE.md "Statuses"). A message only moves forward: from queued to
 * submitted to one final state. Intermediate receipts are history, never a status. The store
 * enforces it: a change applies only to a message still in the status it moves from.
 */
export const MESSAGE_STATUSES = [
  'queued',
  'submitted',
  'delivered',
  'partially_delivered',
  'undeliverable',
  'expired',
  'rejected',
  'failed',
  'unknown',
] as const;

export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** A segment's final status, as its final receipt reports it. */
export type SegmentFinalStatus = 'delivered' | 'undeliverable' | 'expired' | 'rejected' | 'unknown';

/**
 * When the copies of a message sent twice (a possible duplicate) report differently, the best
 * report is the message's: the customer has the message if any copy was delivered, so
 * `delivered` beats every failure; a failure the network decided (`undeliverable`, `rejected`)
 * says more than running out of time (`expired`), which says more than `unknown`. Worst first.
 */
export const SEGMENT_FINAL_ORDER: readonly SegmentFinalStatus[] = ['unknown', 'expired', 'rejected', 'undeliverable', 'delivered'];

/** The same order for a message's final statuses, worst first. */
export const MESSAGE_FINAL_ORDER: readonly MessageStatus[] = ['unknown', 'expired', 'rejected', 'undeliverable', 'partially_delivered', 'delivered'];

/** Whether `next` is a better final report than `current` (see SEGMENT_FINAL_ORDER). */
export function isBetterSegmentStatus(next: SegmentFinalStatus, current: SegmentFinalStatus): boolean {
  return SEGMENT_FINAL_ORDER.indexOf(next) > SEGMENT_FINAL_ORDER.indexOf(current);
}

/** Whether `next` is a better final status than `current` for a message; false unless both are final and ranked. */
export function isBetterMessageStatus(next: MessageStatus, current: MessageStatus): boolean {
  const a = MESSAGE_FINAL_ORDER.indexOf(next);
  const b = MESSAGE_FINAL_ORDER.indexOf(current);
  return a >= 0 && b >= 0 && a > b;
}
