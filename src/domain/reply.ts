/**
 * Customer messages (mobile-originated) on their way in: the parts as received, the reply they
 * assemble into, and what handling it came to.
 */
export interface NewPart {
  readonly fingerprint: string;
  readonly smsc: string;
  readonly bind: string;
  readonly from: string;
  readonly to: string;
  /** Identifies the concatenated message: scheme and reference (`udh8:17`), null for one part. */
  readonly concatKey: string | null;
  readonly total: number;
  readonly seq: number;
  readonly dataCoding: number;
  readonly body: Buffer;
}

export interface StoredPart {
  /** The part's row id: two deliveries of the same text (beyond the duplicate window) are two parts. */
  readonly partId: string;
  readonly fingerprint: string;
  readonly smsc: string;
  readonly from: string;
  readonly to: string;
  readonly total: number;
  readonly seq: number;
  readonly dataCoding: number;
  readonly body: Buffer;
  readonly receivedAt: Date;
}

export interface AssembledReply {
  readonly id: string;
  readonly smsc: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly parts: number;
  readonly incomplete: boolean;
  readonly dataCoding: number;
  readonly decodeProblem: string | null;
  readonly receivedAt: Date;
}

/** Turns a group of parts (sorted by seq) into one reply; `incomplete` when parts are missing. */
export type Assemble = (parts: readonly StoredPart[], incomplete: boolean) => AssembledReply;

/** An assembled reply waiting to be handled: what the handler reads of it. */
export type PendingReply = Omit<AssembledReply, 'dataCoding' | 'decodeProblem'>;

export interface ReplyOutcome {
  readonly conversationId: string | null;
  readonly inReplyTo: string | null;
  readonly matchedKind: string;
  readonly keyword: string | null;
  readonly rule: string | null;
  readonly actions: readonly unknown[];
  readonly resolvedAutomatically: boolean;
  readonly answerMessageId: string | null;
  readonly error: string | null;
  /** What the reply meant (migration 0013); absent from callers that do not read intents. */
  readonly intent?: { readonly name: string; readonly confidence: number; readonly detail: Record<string, unknown> };
}
