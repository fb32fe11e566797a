/**
 * The survey step: the reply as an answer to the survey of the message it answers, when that
 * message has one and the survey is not finished. The next question (or the same again, once, or
 * the closing text) is sent; the answer is stored once it is (`survey.ts` reads the answer).
 */
import { parseSurvey, type Survey } from '../domain/survey.ts';
import type { Logger } from '../lib/logger.ts';
import type { BatchFacts } from './conversations.ts';
import type { Decision, ReplyContext, SurveyRecord } from './reply-context.ts';
import type { ReplyStore } from './reply-store.ts';
import { nextStep, readSurveyAnswer } from './survey.ts';

/** Undefined when the reply is not a survey answer. */
export async function answerSurvey(
  ctx: ReplyContext,
  facts: BatchFacts,
  store: Pick<ReplyStore, 'startSurvey' | 'recordSurveyAnswer'>,
  log: Logger,
): Promise<Decision | undefined> {
  const { reply, answered } = ctx;
  if (answered?.survey == null || !store.startSurvey || !store.recordSurveyAnswer) return undefined;
  const parsed = parseSurvey(answered.survey);
  if (typeof parsed === 'string') {
    log.warn({ message: answered.id, reason: parsed }, 'a stored survey does not read as one; the reply is handled as any other');
    return undefined;
  }
  const survey: Survey = parsed;
  let run = facts.surveyRuns.get(answered.id);
  run ??= await store.startSurvey({ messageId: answered.id, name: survey.name, customer: reply.from, ourNumber: reply.to, definition: answered.survey });
  if (run.status !== 'active' || run.position >= survey.questions.length) return undefined;
  const question = survey.questions[run.position]!;
  const read = readSurveyAnswer(question, reply.text, ctx.reading.intent);
  const step = nextStep(survey, run.position, read.valid, run.reasked);
  const record: SurveyRecord = {
    name: survey.name,
    runId: run.id,
    answer: { position: run.position, kind: question.kind, replyId: reply.id, valid: read.valid, value: read.valid ? read.value : null, answer: reply.text },
    next: { position: step.position, reasked: step.kind === 'ask' && step.reasked, completed: step.kind === 'done' },
  };
  // The customer's next reply in this batch answers the next question.
  facts.surveyRuns.set(answered.id, { ...run, position: step.position, reasked: record.next.reasked, status: step.kind === 'done' ? 'completed' : 'active' });
  if (step.text !== undefined) ctx.answers.add('s', step.text);
  const action = step.kind === 'done' ? 'done' : step.position === run.position ? 'reask' : 'next';
  return {
    matched: { kind: 'survey', keyword: survey.name, action },
    kind: 'survey',
    keyword: survey.name,
    rule: null,
    actions: [{ kind: 'survey', question: run.position, valid: read.valid, value: read.valid ? read.value : null }],
    resolved: !ctx.optedOut,
    handling: 'automatic',
    survey: record,
  };
}
