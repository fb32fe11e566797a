/**
 * What the inbound steps need of the store. Everything a batch of replies needs to know is read
 * in a few statements for the whole batch, and their outcomes are written in one: the per-reply
 * round trips are only the rare ones (an opt-out changing, tags or state set).
 */
import type { ReplyBatchReads } from '../domain/conversation.ts';
import type { MessageInboundEvent } from '../domain/events.ts';
import type { PendingReply, ReplyOutcome } from '../domain/reply.ts';
import type { SurveyAnswer, SurveyRunRow } from '../domain/survey-run.ts';

export interface ReplyStore {
  /** Replies nobody holds (left by a stopped daemon, or past their lease). */
  claim(limit: number, leaseMs: number): Promise<PendingReply[]>;
  finishAll(items: readonly { id: string; outcome: ReplyOutcome; event: MessageInboundEvent }[]): Promise<void>;
  /** What a batch of replies needs to know, read together; `key` is the reply id. */
  readBatch(items: readonly { key: string; customer: string; ourNumber: string; before: Date }[], ttlSeconds: number): Promise<ReplyBatchReads>;
  updateConversation(id: string, change: { tags?: Record<string, unknown>; state?: string }): Promise<void>;
  setOptOut(change: { customer: string; scope: string; optedOut: boolean; keyword: string; replyId: string }): Promise<boolean>;
  /** Gives claimed replies back (a clean stop), so the next daemon handles them without waiting for the lease. */
  release(ids: readonly string[]): Promise<void>;
  /** Sets replies aside as `failed` with the reason: poison, never to be handled again. */
  fail(items: readonly { id: string; error: string }[]): Promise<void>;
  /** Surveys (`store/surveys.ts`); without them, survey messages' replies are handled like any. */
  surveyRuns?(messageIds: readonly string[]): Promise<Map<string, SurveyRunRow>>;
  startSurvey?(run: { messageId: string; name: string; customer: string; ourNumber: string; definition: Record<string, unknown> }): Promise<SurveyRunRow>;
  recordSurveyAnswer?(runId: string, answer: SurveyAnswer, next: { position: number; reasked: boolean; completed: boolean }): Promise<boolean>;
}

export interface ReplyObserver {
  onReply?(kind: MessageInboundEvent['matched']['kind'], resolvedAutomatically: boolean): void;
  onCompliance?(kind: 'opt_out' | 'opt_in' | 'help', changed: boolean): void;
  /** `handling`: compliance, automatic, apps, escalated (below the threshold) or review (a possible opt-out). */
  onIntent?(intent: string, handling: string): void;
  onSurveyAnswer?(survey: string, kind: string, valid: boolean, value: number | null): void;
  onWebhook?(webhook: string, outcome: 'answered' | 'no_reply' | 'failed', seconds: number): void;
}
