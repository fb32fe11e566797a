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

/** Statuses a message never leaves (but for a better report of a possible duplicate, see MESSAGE_FINAL_ORDER). */
export const FINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ['delivered', 'partially_delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'unknown'];

/** Whether a message in `status` is final: no receipt, sweep or operator moves it on. */
export function isFinalStatus(status: string): boolean {
  return (FINAL_MESSAGE_STATUSES as readonly string[]).includes(status);
}

/** A segment's status: accepted or failed by the submit's response, then one final receipt's. */
export type SegmentStatus = 'accepted' | 'failed' | SegmentFinalStatus;

/** Whether a segment's status is a final receipt's (accepted waits for one, failed never gets one). */
export function isSegmentFinalStatus(status: string): status is SegmentFinalStatus {
  return (SEGMENT_FINAL_ORDER as readonly string[]).includes(status);
}

/**
 * The message status its segments' final statuses add up to: delivered when every part was,
 * partially_delivered when some were, the parts' common status when they agree, else undeliverable.
 */
export function combineSegmentStatuses(statuses: readonly SegmentFinalStatus[]): MessageStatus {
  const delivered = statuses.filter((s) => s === 'delivered').length;
  if (delivered === statuses.length) return 'delivered';
  if (delivered > 0) return 'partially_delivered';
  const first = statuses[0]!;
  return statuses.every((s) => s === first) ? first : 'undeliverable';
}

/** What a message's segments say when it is settled (see settleStatus). */
export interface SettledSegments {
  /** The message's status now. */
  readonly current: MessageStatus;
  readonly possibleDuplicate: boolean;
  /** Its part count; null while the submit has not told. */
  readonly segments: number | null;
  /** Every segment's status in part order. */
  readonly statuses: readonly string[];
}

/**
 * The final status a message moves to once every part has a final receipt, or undefined when it
 * does not move. A submitted message moves to the combination of its parts' reports; a final one
 * moves again only when it is a possible duplicate and another copy's receipt gives a better
 * report (delivered after undeliverable): the best report is the message's.
 */
export function settleStatus(m: SettledSegments): { status: MessageStatus; finals: SegmentFinalStatus[] } | undefined {
  const upgradable = m.possibleDuplicate && MESSAGE_FINAL_ORDER.includes(m.current);
  if ((m.current !== 'submitted' && !upgradable) || m.segments === null) return undefined;
  const finals = m.statuses.filter(isSegmentFinalStatus);
  if (finals.length < m.segments || m.statuses.length < m.segments) return undefined;
  const status = combineSegmentStatuses(finals);
  if (m.current !== 'submitted' && !isBetterMessageStatus(status, m.current)) return undefined;
  return { status, finals };
}

/** A status change's error, for the message_events row, the status event and the webhook. */
export interface StatusError {
  readonly errorCode: string;
  readonly errorReason: string;
}

/**
 * The sweep of submitted messages no final receipt reached in time: one sent with a validity
 * period expired with it (the SMSC gave up too); one without has an unknown fate.
 */
export function overdueOutcome(validitySeconds: number | null): StatusError & { status: 'expired' | 'unknown' } {
  return validitySeconds !== null
    ? { status: 'expired', errorCode: 'no_final_receipt', errorReason: 'no final receipt within the validity period' }
    : { status: 'unknown', errorCode: 'no_final_receipt', errorReason: 'no final receipt within the receipt horizon' };
}

/** A queued message an operator cancelled (`parley queue cancel`) becomes failed with this error. */
export const CANCELLED: StatusError = { errorCode: 'cancelled', errorReason: 'cancelled by an operator (parley queue cancel) before it was sent' };

/** Statuses a message can be sent again from (`parley queue requeue`): it ended without reaching the handset. */
export const REQUEUEABLE_STATUSES: readonly MessageStatus[] = ['failed', 'expired', 'rejected', 'undeliverable', 'unknown'];
