/**
 * Conversations: the thread between one customer number and one of our numbers, as the inbound
 * path joins replies to it and as people handle it (the HTTP API and the agent inbox).
 */
import type { StoredReceipt } from './timeline.ts';
import type { ThreadInbound } from './customer-thread.ts';

export interface OutboundTouch {
  readonly customer: string;
  readonly ourNumber: string;
  readonly ttlSeconds: number;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly messageId: string;
}

export interface ConversationView {
  readonly id: string;
  /** Opened by this reply: no session was open, so the reply answers no earlier message. */
  readonly opened: boolean;
  readonly state: string | null;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
  /** The person handling it: while set, automation does not answer (compliance still applies). */
  readonly assignedTo: string | null;
}

export interface AnsweredMessage {
  readonly id: string;
  readonly replies: Record<string, { reply?: string; webhook?: string }> | null;
  readonly metadata: Record<string, unknown> | null;
  /** The survey the message declared (validated at intake), if any. */
  readonly survey?: Record<string, unknown> | null;
}

/**
 * The key of a customer and one of our numbers, as the sets and maps that the store hands to the
 * flows use it (who is opted out, the sessions joined, who wrote recently): `customer\0ourNumber`.
 */
export const customerPairKey = (customer: string, ourNumber: string): string => `${customer}\0${ourNumber}`;

/** What a batch of replies reads before it is handled (one statement: store/reply-batch.ts). */
export interface ReplyBatchReads {
  /** The session each pair joins (extended, or opened), keyed `customer\0ourNumber`. */
  readonly conversations: Map<string, ConversationView>;
  /** The message each reply answers, keyed by the reply id. */
  readonly answered: Map<string, AnsweredMessage>;
  /** The pairs (`customer\0ourNumber`) opted out. */
  readonly blocked: Set<string>;
}

/** open: automation answers; assigned: a person does; closed: ended by a person; expired: its window passed. */
export type ConversationStatus = 'open' | 'assigned' | 'closed' | 'expired';

export interface ConversationSummary {
  readonly id: string;
  readonly customer: string;
  readonly ourNumber: string;
  readonly status: ConversationStatus;
  /** What rules set with set_state (null when none did). */
  readonly state: string | null;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly assignedTo: string | null;
  readonly assignedAt: Date | null;
  readonly openedAt: Date;
  readonly lastActivityAt: Date;
  readonly expiresAt: Date;
  readonly closedAt: Date | null;
  readonly lastInboundAt: Date | null;
  readonly lastOutboundAt: Date | null;
  /** The customer wrote last and nobody answered since (a closed conversation is never unanswered). */
  readonly unanswered: boolean;
  /** The latest message either way, for a list preview. */
  readonly last: { readonly direction: 'in' | 'out'; readonly text: string; readonly at: Date } | null;
}

export interface ConversationFilter {
  /** One of our numbers. */
  readonly ourNumber?: string;
  readonly customer?: string;
  /** The rules' state (set_state). */
  readonly state?: string;
  readonly status?: ConversationStatus;
  /** A tag key that must be present, with the value it must have when given. */
  readonly tag?: { readonly key: string; readonly value?: string };
  readonly unanswered?: boolean;
}

/** Where the previous page ended: the last row's activity (Postgres's own text, microseconds kept) and id. */
export interface ConversationCursor {
  readonly activity: string;
  readonly id: string;
}

export interface ConversationPage {
  readonly conversations: readonly ConversationSummary[];
  /** Present when there may be more. */
  readonly next: ConversationCursor | null;
}

/** A message we sent in the conversation, with what the SMSC and the receipts said of it. */
export interface ConversationOutbound {
  readonly direction: 'out';
  readonly id: string;
  readonly at: Date;
  readonly text: string;
  readonly status: string;
  readonly errorCode: string | null;
  readonly errorReason: string | null;
  readonly segments: number | null;
  readonly deliveredSegments: number;
  readonly submittedAt: Date | null;
  readonly finalAt: Date | null;
  /** The customer message it answers (auto-replies, confirmations). */
  readonly replyTo: string | null;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly receipts: readonly Pick<StoredReceipt, 'seq' | 'state' | 'final' | 'errorCode' | 'receivedAt'>[];
}

/**
 * A message the customer sent in the conversation, and how automation handled it: the customer
 * thread's view of it (domain/customer-thread.ts) without what the conversation already says.
 */
export type ConversationInbound = Omit<ThreadInbound, 'ourNumber' | 'conversationId' | 'error'>;

export type ConversationEntry = ConversationOutbound | ConversationInbound;

export interface ConversationThread {
  readonly conversation: ConversationSummary;
  /** Whether messages from our number to the customer are refused (an opt-out of it or of all). */
  readonly optedOut: boolean;
  /** The latest `limit` entries, oldest first. */
  readonly entries: readonly ConversationEntry[];
  /** Entries in the conversation in all. */
  readonly total: number;
}

export type HandlingResult =
  | { readonly ok: true; readonly conversation: ConversationSummary }
  | { readonly ok: false; readonly code: 'conversation_not_found' | 'conversation_ended'; readonly reason: string };
