/**
 * A segment (one submit_sm) of an outbound message, as the submit's response leaves it.
 */
/** One submit_sm's outcome as recorded: accepted with the carrier's id, or refused. */
export interface SegmentRecord {
  readonly messageId: string;
  readonly seq: number;
  readonly total: number;
  readonly smsc: string;
  readonly bind: string;
  readonly smscMessageId: string | null;
  /** The carrier id as receipts are matched by (see domain/smsc-message-id.ts). */
  readonly matchKey: string | null;
  readonly commandStatus: number | null;
  readonly status: 'accepted' | 'failed';
  readonly attempts: number;
  readonly possibleDuplicate: boolean;
  readonly submittedAt: Date;
  readonly respondedAt: Date;
}
