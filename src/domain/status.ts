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
