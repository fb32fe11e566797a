/**
 * Delivery receipts as the inbound path hands them to the store, and those nothing matched.
 */
import type { SegmentFinalStatus } from './status.ts';
import type { SentSegment } from './recent-carrier-ids.ts';

export interface NewReceipt {
  readonly fingerprint: string;
  readonly smsc: string;
  readonly bind: string;
  readonly smscMessageId: string;
  /** Keys of the id, best first (domain/smsc-message-id.ts). */
  readonly matchKeys: readonly string[];
  /** The receipt state as reported (DELIVERED, ENROUTE, ...). */
  readonly state: string;
  /** The segment status a final receipt sets; undefined for intermediate receipts. */
  readonly segmentStatus: SegmentFinalStatus | undefined;
  readonly errorCode: string | null;
  readonly networkError: string | null;
  readonly submitDate: Date | null;
  readonly doneDate: Date | null;
  readonly body: string;
  /** The body's octets, when NUL or lone surrogates were replaced in `body`. */
  readonly originalBody?: Buffer | null;
  readonly tlvs: Record<string, unknown> | null;
  /** The deliver_sm's source (the customer the message went to) and destination (our number). */
  readonly sourceAddr?: string;
  readonly destAddr?: string;
  /**
   * The segment the best of `matchKeys` names, when the daemon storing the receipt sent it lately
   * (RecentCarrierIds): the store applies the receipt to it without looking the id up.
   */
  readonly sentSegment?: SentSegment;
}

export interface UnmatchedReceipt {
  readonly id: string;
  readonly smsc: string;
  readonly smscMessageId: string;
  readonly state: string;
  readonly receivedAt: Date;
  readonly body: string;
}
