/**
 * Survey progress and answers (migration 0013): a run per customer taking a message's survey, an
 * answer per reply. Recording an answer and moving the run on happen in one transaction, and only
 * when the answer is new: a reply handled twice (after a crash) moves nothing twice.
 */
import { sql } from 'kysely';
import { batchArray } from './batch-array.ts';
import type { Db } from './db.ts';
import type { SurveyRunRow, SurveyAnswer } from '../domain/survey-run.ts';

interface RunRow {
  id: string;
  message_id: string;
  name: string;
  definition: Record<string, unknown>;
  position: number;
  reasked: boolean;
  status: string;
}

const toRun = (r: RunRow): SurveyRunRow => ({
  id: String(r.id),
  messageId: r.message_id,
  name: r.name,
  definition: r.definition,
  position: r.position,
  reasked: r.reasked,
  status: r.status === 'completed' ? 'completed' : 'active',
});

/** The runs of these survey messages, by message id. */
export async function runsFor(db: Db, messageIds: readonly string[]): Promise<Map<string, SurveyRunRow>> {
  if (messageIds.length === 0) return new Map();
  const res = await sql<RunRow>`
    SELECT id, message_id, name, definition, position, reasked, status FROM survey_runs
    WHERE message_id = ANY (${batchArray([...new Set(messageIds)], 'text[]')})`.execute(db);
  return new Map(res.rows.map((r) => [r.message_id, toRun(r)]));
}

/** Starts the run of a survey message (or returns the one already started). */
export async function startRun(
  db: Db,
  run: { messageId: string; name: string; customer: string; ourNumber: string; definition: Record<string, unknown> },
): Promise<SurveyRunRow> {
  const res = await sql<RunRow>`
    INSERT INTO survey_runs (message_id, name, customer, our_number, definition)
    VALUES (${run.messageId}, ${run.name}, ${run.customer}, ${run.ourNumber}, ${JSON.stringify(run.definition)}::jsonb)
    ON CONFLICT (message_id) DO UPDATE SET updated_at = survey_runs.updated_at
    RETURNING id, message_id, name, definition, position, reasked, status`.execute(db);
  return toRun(res.rows[0]!);
}

/**
 * Stores an answer and moves the run to `next`; returns false (changing nothing) when this reply
 * was already recorded.
 */
export async function recordAnswer(
  db: Db,
  runId: string,
  answer: SurveyAnswer,
  next: { position: number; reasked: boolean; completed: boolean },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const inserted = await sql`
      INSERT INTO survey_answers (run_id, position, kind, reply_id, valid, value, answer)
      VALUES (${runId}, ${answer.position}, ${answer.kind}, ${answer.replyId}, ${answer.valid}, ${answer.value}, ${answer.answer})
      ON CONFLICT (run_id, reply_id) DO NOTHING`.execute(tx);
    if (Number(inserted.numAffectedRows ?? 0) === 0) return false;
    await sql`
      UPDATE survey_runs SET position = ${next.position}, reasked = ${next.reasked}, updated_at = now(),
        status = ${next.completed ? 'completed' : 'active'}, completed_at = ${next.completed ? sql`now()` : null}
      WHERE id = ${runId}`.execute(tx);
    return true;
  });
}
