/**
 * Everything exchanged with one customer number, both ways (`parley conversation`, the demo).
 */
import type { NewPart } from './reply.ts';

/** A message we sent to the customer. */
export interface ThreadOutbound {
  readonly direction: 'out';
  readonly id: string;
  /** When it was accepted (inserted in Postgres). */
  readonly at: Date;
  /** Our number it went from; null when it had none (no `from` and no route default). */
  readonly ourNumber: string | null;
  readonly text: string;
  readonly status: string;
  readonly errorCode: string | null;
  readonly errorReason: string | null;
  readonly segments: number | null;
  readonly finalAt: Date | null;
  /** The customer reply it answers (auto-replies and compliance confirmations), else null. */
  readonly replyTo: string | null;
  /** The keys of the replies it said it expects (`replies` in its payload). */
  readonly expects: readonly string[];
  /**
   * The conversation open between the two numbers when it was sent (the latest opened by then and
   * not expired); null when none was (a message refused before sending opens none).
   */
  readonly conversationId: string | null;
}

/** A message the customer sent us, after reassembly, and how it was handled. */
export interface ThreadInbound {
  readonly direction: 'in';
  readonly id: string;
  /** When its first part arrived. */
  readonly at: Date;
  /** Our number it was sent to. */
  readonly ourNumber: string;
  readonly text: string;
  /** received (not handled yet) | handled. */
  readonly status: string;
  readonly parts: number;
  /** Released after the reassembly timeout with parts missing. */
  readonly incomplete: boolean;
  /** compliance | expected_reply | keyword | none; null until handled. */
  readonly matchedKind: string | null;
  readonly keyword: string | null;
  readonly rule: string | null;
  readonly actions: readonly unknown[] | null;
  /** The message of ours it answers: the latest one from that number before it arrived. */
  readonly inReplyTo: string | null;
  readonly conversationId: string | null;
  /** The first answer sent back for it, when one was. */
  readonly answerMessageId: string | null;
  readonly resolvedAutomatically: boolean | null;
  readonly handledAt: Date | null;
  readonly error: string | null;
}

export type ThreadEntry = ThreadOutbound | ThreadInbound;

export interface ThreadConversation {
  readonly id: string;
  readonly ourNumber: string;
  readonly openedAt: Date;
  readonly lastActivityAt: Date;
  readonly expiresAt: Date;
  readonly state: string | null;
  readonly tags: Readonly<Record<string, unknown>>;
}

/** The customer's opt-out record for one scope: one of our numbers, or '*' for all of them. */
export interface OptOutRecord {
  readonly scope: string;
  readonly optedOut: boolean;
  /** The keyword that last changed it (STOP, START, ...). */
  readonly keyword: string | null;
  /** The customer message that changed it. */
  readonly replyId: string | null;
  readonly changedAt: Date;
}

export interface CustomerThread {
  /** The number as stored: digits, without a plus. */
  readonly customer: string;
  /** Messages each way in all, whatever `limit` kept. */
  readonly total: number;
  /** The latest `limit` entries, oldest first. */
  readonly entries: readonly ThreadEntry[];
  /** Every conversation with the customer, oldest first. */
  readonly conversations: readonly ThreadConversation[];
  readonly optOuts: readonly OptOutRecord[];
}

/** One deliver_sm part of a customer message, as stored before the deliver_sm was answered. */
export interface CustomerPart extends Omit<NewPart, 'fingerprint' | 'bind'> {
  readonly id: string;
  /** As stored: the column allows no bind. */
  readonly bind: string | null;
  readonly receivedAt: Date;
  /** The reply it became part of, once complete. */
  readonly replyId: string | null;
}
