/**
 * One message's record read back: the message, its segments, receipts, status history and the
 * replies linked to it (`parley status`, the HTTP API).
 */
export interface StoredMessage {
  readonly id: string;
  readonly to: string;
  readonly from: string | null;
  readonly text: string;
  /** Empty when no route matched (the message failed with `no_route`). */
  readonly route: string;
  readonly priority: number;
  readonly dlr: boolean;
  readonly validitySeconds: number | null;
  readonly status: string;
  readonly smsc: string | null;
  /** Parts the text was split into, once submitted. */
  readonly segments: number | null;
  /** Parts a receipt reported delivered. */
  readonly deliveredSegments: number;
  readonly errorCode: string | null;
  readonly errorReason: string | null;
  /** The daemon (consumer name) working on it while it is queued. */
  readonly owner: string | null;
  readonly attempts: number;
  readonly possibleDuplicate: boolean;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly submittedAt: Date | null;
  readonly finalAt: Date | null;
  /** The customer message this one answers (auto-replies, compliance confirmations); null for others. */
  readonly replyTo: string | null;
  /** The keys of the replies it said it expects (`replies` in its payload). */
  readonly expects: readonly string[];
}

export interface StoredSegment {
  readonly seq: number;
  readonly total: number;
  readonly smsc: string;
  readonly bind: string | null;
  /** The carrier's id from submit_sm_resp; null when the submit was refused. */
  readonly smscMessageId: string | null;
  readonly commandStatus: number | null;
  readonly status: string;
  readonly attempts: number;
  /** The submit may have reached the SMSC twice (a resend after an unanswered submit). */
  readonly possibleDuplicate: boolean;
  readonly submittedAt: Date;
  readonly respondedAt: Date | null;
  /** The state of the latest receipt for this segment (DELIVRD, UNDELIV, ...), once one matched. */
  readonly receiptState: string | null;
  readonly errorCode: string | null;
  readonly networkError: string | null;
  /** When a final receipt settled the segment. */
  readonly finalAt: Date | null;
}

/** A delivery receipt matched to the message, as it came from the SMSC. */
export interface StoredReceipt {
  readonly receiptId: string;
  readonly smsc: string;
  readonly bind: string | null;
  readonly smscMessageId: string;
  /** The segment it matched. */
  readonly seq: number | null;
  readonly state: string;
  readonly final: boolean;
  readonly errorCode: string | null;
  readonly networkError: string | null;
  /** The dates the SMSC wrote in the receipt. */
  readonly submitDate: Date | null;
  readonly doneDate: Date | null;
  readonly receivedAt: Date;
  readonly matchedAt: Date | null;
  /** The receipt's text (`id:… sub:… dlvrd:… stat:… err:… text:…`), as received. */
  readonly text: string;
}

export interface StatusHistoryEntry {
  /**
   * Unique within a message. The events its row tells are named: "0" for its first (queued), the
   * status for submitted and for its current final status. A stored event has its row's id: a
   * final status a better report replaced (a possible duplicate), and the events of messages
   * stored before events were read off the row. The history lists events in the order they
   * happened, not by id.
   */
  readonly eventId: string;
  readonly messageId: string;
  readonly status: string;
  readonly previous: string | null;
  readonly at: Date;
  readonly detail: Readonly<Record<string, unknown>> | null;
}

/** A customer message linked to the message: the one it answers, or one that answered it. */
export interface LinkedReply {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly receivedAt: Date;
  /** received (not handled yet) | handled. */
  readonly status: string;
  /** compliance | expected_reply | keyword | none; null until handled. */
  readonly matchedKind: string | null;
  readonly keyword: string | null;
  readonly rule: string | null;
  /** The message of ours it answers. */
  readonly inReplyTo: string | null;
  readonly conversationId: string | null;
  /** The first answer sent back for it. */
  readonly answerMessageId: string | null;
  readonly handledAt: Date | null;
}

export interface MessageTimeline {
  readonly message: StoredMessage;
  readonly segments: readonly StoredSegment[];
  readonly receipts: readonly StoredReceipt[];
  readonly history: readonly StatusHistoryEntry[];
  /** For an answer (messages.reply_to): the customer message it answers. */
  readonly answers: LinkedReply | null;
  /** Customer messages that answered this one (replies.in_reply_to), oldest first. */
  readonly replies: readonly LinkedReply[];
}
