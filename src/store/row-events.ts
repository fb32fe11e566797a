/**
 * A message's status events as its row tells them. A message moves forward only, so its row holds
 * every event but one kind: queued at created_at, submitted at submitted_at (with its SMSC), and
 * its final status at final_at (with its SMSC and error). message_events stores only what the row
 * loses: a final status that a possible duplicate's better report replaced (status-changes.ts), and
 * every event of the rows written before this was so. Both the writer and the reader of the
 * history (timeline.ts) build an event from a row here, so that the two cannot drift apart.
 */
import { sql, type RawBuilder } from 'kysely';
import { FINAL_MESSAGE_STATUSES } from '../domain/status.ts';

/** An event's detail (message_events.detail) from its SMSC and error, built by Postgres. */
export function eventDetail(smsc: RawBuilder<unknown>, errorCode: RawBuilder<unknown>, errorReason: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`CASE WHEN COALESCE(${errorCode}, '') <> '' OR COALESCE(${smsc}, '') <> ''
    THEN jsonb_strip_nulls(jsonb_build_object('smsc', ${smsc}, 'error_code', ${errorCode}, 'error_reason', ${errorReason})) END`;
}

/**
 * The final statuses (domain/status.ts), as a text[]: the others (queued, submitted) each happen
 * once, and the row keeps their time (created_at, submitted_at).
 */
export const FINAL = sql`${[...FINAL_MESSAGE_STATUSES]}::text[]`;

/**
 * The status a final status of the message row `m` moved from: the final one it replaced (stored),
 * else submitted when it was submitted, else queued (refused or failed before it was sent).
 */
function previousOfFinal(m: string): RawBuilder<string> {
  return sql<string>`COALESCE(
    (SELECT e.status FROM message_events e
      WHERE e.message_id = ${sql.ref(`${m}.id`)} AND e.previous IS NOT NULL AND e.status = ANY (${FINAL}) AND e.status <> ${sql.ref(`${m}.status`)}
      ORDER BY e.at DESC, e.id DESC LIMIT 1),
    CASE WHEN ${sql.ref(`${m}.submitted_at`)} IS NULL THEN 'queued' ELSE 'submitted' END)`;
}

/**
 * The event of the final status the message row `m` holds, as four columns: status, previous, at,
 * detail. The history reads it off the row; the writer stores it when a better report replaces it.
 */
export function finalEventOf(m: string): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(`${m}.${c}`);
  return sql`${col('status')}, ${previousOfFinal(m)}, COALESCE(${col('final_at')}, ${col('updated_at')}),
    ${eventDetail(col('smsc'), col('error_code'), col('error_reason'))}`;
}

/**
 * Whether message_events stores an event of `status` for the message row `m`: then the row's own
 * event of that status is not read (rows written before events were read off the row, a final
 * status stored as it was replaced).
 */
export function eventStored(m: string, status: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM message_events e
    WHERE e.message_id = ${sql.ref(`${m}.id`)} AND e.status = ${status} AND e.previous IS NOT NULL)`;
}
