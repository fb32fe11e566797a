/**
 * Message statuses (ARCHITECTURE.md "Statuses"). A message only moves forward: from queued to
 * submitted to one final state. Intermediate receipts are history, never a status.
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

export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set([
  'delivered',
  'partially_delivered',
  'undeliverable',
  'expired',
  'rejected',
  'failed',
  'unknown',
]);

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  submitted: 1,
  delivered: 2,
  partially_delivered: 2,
  undeliverable: 2,
  expired: 2,
  rejected: 2,
  failed: 2,
  unknown: 2,
};

/** True when `next` is a forward move from `current` (a final state never changes). */
export function isForward(current: MessageStatus, next: MessageStatus): boolean {
  return RANK[next] > RANK[current];
}
