/**
 * The conversation step: a batch of replies joins its conversations (each pair's open session,
 * extended, or a new one), finds the message each reply answers and who is opted out, in one
 * statement for the whole batch. A reply answers a message only within its conversation's window.
 */
import { customerPairKey, type AnsweredMessage, type ConversationView } from '../domain/conversation.ts';
import type { PendingReply } from '../domain/reply.ts';
import type { SurveyRunRow } from '../domain/survey-run.ts';
import type { ReplyStore } from './reply-store.ts';

/** What a batch of replies needs to know, read once for the batch. */
export interface BatchFacts {
  readonly conversations: ReadonlyMap<string, ConversationView>;
  readonly answered: ReadonlyMap<string, AnsweredMessage>;
  /** Updated as compliance keywords in the batch change a customer's state. */
  readonly blocked: Set<string>;
  /** Survey runs by survey message id; updated as the batch's answers move them on. */
  readonly surveyRuns: Map<string, SurveyRunRow>;
}

/** The key of a reply's customer and our number: `customer\0ourNumber`. */
export const pairOf = (reply: Pick<PendingReply, 'from' | 'to'>): string => customerPairKey(reply.from, reply.to);

type ConversationStore = Pick<ReplyStore, 'readBatch' | 'surveyRuns'>;

export async function readBatchFacts(store: ConversationStore, batch: readonly PendingReply[], ttlSeconds: number): Promise<BatchFacts> {
  const { conversations, answered, blocked } = await store.readBatch(
    batch.map((r) => ({ key: r.id, customer: r.from, ourNumber: r.to, before: r.receivedAt })),
    ttlSeconds,
  );
  const surveyIds = [...answered.values()].filter((a) => a.survey != null).map((a) => a.id);
  const surveyRuns = surveyIds.length > 0 && store.surveyRuns ? await store.surveyRuns(surveyIds) : new Map<string, SurveyRunRow>();
  return { conversations, answered, blocked, surveyRuns };
}

/** The message a reply answers: none when its conversation was opened by it (no session was open). */
export function answeredBy(reply: PendingReply, conversation: ConversationView | undefined, facts: BatchFacts): AnsweredMessage | undefined {
  return conversation === undefined || conversation.opened ? undefined : facts.answered.get(reply.id);
}
