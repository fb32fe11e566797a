/**
 * The JSON events apps consume (README "Hearing back"). Keys are the contract's, snake_case.
 */
import type { MessageStatus } from './status.ts';

export interface MessageStatusEvent {
  readonly type: 'message.status';
  readonly id: string;
  readonly status: MessageStatus;
  readonly previous: MessageStatus | null;
  readonly segments: number | null;
  readonly delivered_segments: number;
  readonly error: { readonly code: string; readonly reason: string } | null;
  readonly smsc: string | null;
  readonly route: string | null;
  readonly at: string;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  /**
   * The message may have reached the customer twice: a submit of it was in doubt (no answer
   * recorded before a crash or a lost connection) and it was sent again.
   */
  readonly possible_duplicate: boolean;
}

/** What a status event says beyond the status itself. */
export interface StatusEventFacts {
  readonly id: string;
  readonly status: MessageStatus;
  readonly previous: MessageStatus | null;
  readonly segments?: number | null;
  readonly deliveredSegments?: number | null;
  readonly errorCode?: string | null;
  readonly errorReason?: string | null;
  readonly smsc?: string | null;
  readonly route?: string | null;
  readonly metadata?: Readonly<Record<string, unknown>> | null;
  /** When the change was committed; the event's `at`, the same on the stream and in webhooks. */
  readonly at?: Date;
  /** When the message was submitted, known on changes after it (for latency metrics). */
  readonly submittedAt?: Date | null;
  /** Whether the message is flagged as possibly sent twice (messages.possible_duplicate). */
  readonly possibleDuplicate?: boolean;
}

/** A status change, with what its event reports. */
export type StatusChange = StatusEventFacts;

export function statusEvent(facts: StatusEventFacts, fallbackAt: Date): MessageStatusEvent {
  const at = facts.at ?? fallbackAt;
  return {
    type: 'message.status',
    id: facts.id,
    status: facts.status,
    previous: facts.previous,
    segments: facts.segments ?? null,
    delivered_segments: facts.deliveredSegments ?? 0,
    error: facts.errorCode ? { code: facts.errorCode, reason: facts.errorReason ?? '' } : null,
    smsc: facts.smsc ?? null,
    route: facts.route || null,
    at: at.toISOString(),
    metadata: facts.metadata ?? null,
    possible_duplicate: facts.possibleDuplicate ?? false,
  };
}

/** One customer reply, after reassembly and handling (README "Hearing back", parley:inbound). */
export interface MessageInboundEvent {
  readonly type: 'message.inbound';
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly conversation_id: string | null;
  readonly in_reply_to: string | null;
  readonly matched: {
    readonly kind: 'compliance' | 'expected_reply' | 'keyword' | 'survey' | 'none';
    readonly keyword: string | null;
    readonly action: string | null;
  };
  readonly received_at: string;
  /**
   * What the reply meant (issue 12): absent only from events made before intents were read.
   * `review` marks a reply that may be an opt-out and needs a person; `escalated` one handed to the
   * apps because it was read with less confidence than the number's threshold.
   */
  readonly intent?: InboundIntent;
}

export interface InboundIntent {
  readonly name: string;
  readonly confidence: number;
  /** How it was read: keyword, phrase, typo, emoji, menu, time, words, question, nlu, none. */
  readonly via: string;
  /** The menu number of a `choice`. */
  readonly choice: number | null;
  /** The time a `reschedule` proposes (ISO 8601, UTC). */
  readonly at: string | null;
  readonly review: boolean;
  readonly escalated: boolean;
}
