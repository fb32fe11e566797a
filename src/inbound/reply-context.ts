/**
 * One reply on its way through the inbound steps: what the steps read (the reply, its number's
 * settings, its conversation and the message it answers, how it reads) and what they collect (the
 * answers). Each step either decides how the reply was handled or leaves it to the next.
 */
import type { AnsweredMessage, ConversationView } from '../domain/conversation.ts';
import type { MessageInboundEvent } from '../domain/events.ts';
import type { PendingReply, ReplyOutcome } from '../domain/reply.ts';
import type { SurveyAnswer } from '../domain/survey-run.ts';
import type { Answers } from './actions/reply.ts';
import type { ReplyReading } from './intent/reading.ts';
import type { NumberSettings } from './number-settings.ts';

export interface ReplyContext {
  readonly reply: PendingReply;
  readonly settings: NumberSettings;
  /** `customer\0ourNumber`, the key of the batch's facts. */
  readonly pair: string;
  readonly conversation: ConversationView;
  /** The message this reply answers: only a reply within a conversation's window answers one. */
  readonly answered: AnsweredMessage | undefined;
  /** Whether the customer was opted out of this number when the reply came. */
  readonly optedOut: boolean;
  readonly answers: Answers;
  /** Read once at the start; the NLU webhook or an escalation reads it again. */
  reading: ReplyReading;
}

/** How a step handled the reply: what is published, recorded and counted. */
export interface Decision {
  readonly matched: MessageInboundEvent['matched'];
  readonly kind: string;
  readonly keyword: string | null;
  readonly rule: string | null;
  readonly actions: readonly unknown[];
  /** Answered by automation alone (an answer went out, nobody needs to look). */
  readonly resolved: boolean;
  /** For the intent metric: compliance, automatic, apps, escalated or review. */
  readonly handling: string;
  /** A survey answer to store once the answers are sent (`survey-step.ts`). */
  readonly survey?: SurveyRecord;
}

export interface SurveyRecord {
  readonly name: string;
  readonly runId: string;
  readonly answer: SurveyAnswer;
  readonly next: { position: number; reasked: boolean; completed: boolean };
}

/** The inbound event of the reply, as published on the stream and posted to webhooks. */
export function inboundEvent(ctx: ReplyContext, matched: MessageInboundEvent['matched']): MessageInboundEvent {
  const r = ctx.reply;
  return {
    type: 'message.inbound',
    id: r.id,
    from: r.from,
    to: r.to,
    text: r.text,
    conversation_id: ctx.conversation.id,
    in_reply_to: ctx.answered?.id ?? null,
    matched,
    received_at: r.receivedAt.toISOString(),
    intent: ctx.reading.event,
  };
}

/** What is recorded on the reply's row. */
export function replyOutcome(ctx: ReplyContext, d: Decision): ReplyOutcome {
  return {
    conversationId: ctx.conversation.id,
    inReplyTo: ctx.answered?.id ?? null,
    matchedKind: d.kind,
    keyword: d.keyword,
    rule: d.rule,
    actions: d.actions,
    resolvedAutomatically: d.resolved,
    answerMessageId: ctx.answers.list[0]?.id ?? null,
    error: null,
    intent: ctx.reading.stored,
  };
}
