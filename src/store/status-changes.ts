/**
 * A message's status moves here and only here: settled from its segments' receipts, swept when no
 * final receipt came in time, and every change queued for the status webhooks in the same
 * transaction. The row records each change as it goes (row-events.ts).
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import type { StatusEventFacts as StatusChange } from '../domain/events.ts';
import { SEGMENT_FINAL_ORDER, overdueOutcome, settleStatus, type MessageStatus } from '../domain/status.ts';
import { statusEvent } from '../domain/events.ts';
import { enqueueDeliveries } from './webhooks.ts';
import { FINAL, eventStored, finalEventOf } from './row-events.ts';

type Tx = Transaction<Database> | Db;

/**
 * Takes the row locks of these messages, in id order, before their status is read and changed.
 * Whoever settles a message (a receipt batch, a submit batch applying early receipts, the copy
 * matcher) reads its segments in the next statement, after every other transaction that held the
 * lock committed: two transactions that each make one segment final cannot both miss the other's,
 * and a receipt that lands while the message becomes `submitted` is settled by whichever commits
 * second. The id order keeps two such transactions from deadlocking on each other.
 */
export async function lockMessages(tx: Tx, messageIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(messageIds)];
  if (ids.length === 0) return;
  await sql`${lockingMessages(batchArray(ids, 'text[]'))}`.execute(tx);
}

/**
 * lockMessages as SQL, for a statement that takes the locks with other work: the messages whose id
 * is in `ids` (a text[] expression), locked in id order.
 */
export function lockingMessages(ids: RawBuilder<unknown>): RawBuilder<unknown> {
  // NO KEY UPDATE, the lock the status UPDATE that follows takes anyway (no key column changes).
  return sql`SELECT 1 FROM messages WHERE id = ANY (${ids}) ORDER BY id FOR NO KEY UPDATE`;
}

/**
 * Moves submitted messages whose every segment has a final receipt to their final status, and
 * keeps delivered_segments current. Returns the changes applied.
 */
export async function settleMessages(
  tx: Tx,
  messageIds: Iterable<string>,
  statusWebhooks: readonly string[] = [],
  /** The caller holds these messages' row locks already (lockMessages). */
  locked = false,
): Promise<StatusChange[]> {
  const ids = [...new Set(messageIds)];
  if (ids.length === 0) return [];
  if (!locked) await lockMessages(tx, ids);
  const rows = await sql<{
    id: string;
    status: MessageStatus;
    segments: number | null;
    route: string;
    smsc: string | null;
    metadata: Record<string, unknown> | null;
    statuses: string[];
    delivered: number;
    delivered_segments: number;
    error_code: string | null;
    possible_duplicate: boolean;
  }>`
    SELECT m.id, m.status, m.segments, m.route, m.smsc, m.metadata, m.possible_duplicate, m.delivered_segments,
      array_agg(s.status ORDER BY s.seq) AS statuses,
      count(*) FILTER (WHERE s.status = 'delivered')::int AS delivered,
      (array_agg(s.error_code ORDER BY s.seq) FILTER (WHERE s.error_code IS NOT NULL AND s.status <> 'delivered'))[1] AS error_code
    FROM messages m JOIN segments s ON s.message_id = m.id
    WHERE m.id = ANY (${batchArray(ids, 'text[]')})
      -- Only a message with a part that has its final receipt can settle or count one delivered:
      -- a message just submitted is read no further (nearly all of them, when its submit settles).
      AND ${hasFinalPart(sql`m.id`)}
    GROUP BY m.id`.execute(tx);
  const changes: StatusChange[] = [];
  // delivered_segments of the messages whose status does not change now (those that change get it
  // in the same update as their status: one new row version, not two).
  const deliveredCounts: { id: string; delivered: number; stored: number }[] = [];
  for (const r of rows.rows) {
    deliveredCounts.push({ id: r.id, delivered: r.delivered, stored: r.delivered_segments });
    const settled = settleStatus({ current: r.status, possibleDuplicate: r.possible_duplicate, segments: r.segments, statuses: r.statuses });
    if (!settled) continue;
    const { status, finals } = settled;
    changes.push({
      id: r.id,
      status,
      previous: r.status,
      segments: r.segments,
      deliveredSegments: r.delivered,
      smsc: r.smsc,
      route: r.route,
      metadata: r.metadata,
      ...settledError(status, finals, r.error_code),
    });
  }
  const changing = new Set(changes.map((c) => c.id));
  const counts = deliveredCounts.filter((d) => d.delivered !== d.stored && !changing.has(d.id));
  if (counts.length > 0) {
    await sql`UPDATE messages AS m SET delivered_segments = v.delivered
      FROM unnest(${batchArray(counts.map((d) => d.id), 'text[]')}, ${counts.map((d) => d.delivered)}::smallint[]) AS v(id, delivered)
      WHERE m.id = v.id AND m.delivered_segments <> v.delivered`.execute(tx);
  }
  return applyChanges(tx, changes, statusWebhooks);
}

/**
 * The error of a message settled from its parts' final receipts: none when it was delivered; else
 * the first failed part's error code as the receipt gave it, and every part's report.
 */
export function settledError(
  status: MessageStatus,
  finals: readonly string[],
  firstErrorCode: string | null,
): { errorCode: string | null; errorReason: string | null } {
  if (status === 'delivered') return { errorCode: null, errorReason: null };
  return { errorCode: firstErrorCode ? `${RECEIPT_ERROR_PREFIX}${firstErrorCode}` : null, errorReason: `segments: ${finals.join(', ')}` };
}

/** A settled message's error code is the receipt's err: field behind this prefix. */
export const RECEIPT_ERROR_PREFIX = 'receipt_err:';

/**
 * Applies status changes forward only (the row must still be in `previous`), queues them for the
 * status webhooks, and returns those applied. The row is their event (see changeMessagesFrom).
 */
export async function applyChanges(tx: Tx, changes: readonly StatusChange[], statusWebhooks: readonly string[] = []): Promise<StatusChange[]> {
  return (await applyChangesReading(tx, changes, statusWebhooks, false)).applied;
}

/**
 * applyChanges for messages just submitted, which may be final already (a receipt matched their
 * parts before this): also returns those of them with a part that has its final receipt, the
 * only ones settleMessages needs to read. Read by the same statement, so a submit batch whose
 * receipts are still to come (nearly all of them) needs no statement to settle. The caller holds
 * the messages' row locks (lockMessages), taken by an earlier statement: this one sees every
 * receipt their previous holders applied.
 */
export async function applySubmitChanges(
  tx: Tx,
  changes: readonly StatusChange[],
  statusWebhooks: readonly string[],
): Promise<{ applied: StatusChange[]; partlyFinal: Set<string> }> {
  return applyChangesReading(tx, changes, statusWebhooks, true);
}

async function applyChangesReading(
  tx: Tx,
  changes: readonly StatusChange[],
  statusWebhooks: readonly string[],
  readFinalParts: boolean,
): Promise<{ applied: StatusChange[]; partlyFinal: Set<string> }> {
  const partlyFinal = new Set<string>();
  if (changes.length === 0) return { applied: [], partlyFinal };
  const result = await sql<ChangedRow & { partly_final: boolean }>`
    ${GENERIC_PLAN}WITH ${changeMessagesFrom(sql`unnest(${batchArray(changes.map((c) => c.id), 'text[]')}, ${changes.map((c) => c.status)}::text[], ${changes.map((c) => c.previous)}::text[],
        ${changes.map((c) => c.smsc ?? null)}::text[], ${changes.map((c) => c.segments ?? null)}::smallint[],
        ${changes.map((c) => c.errorCode ?? null)}::text[], ${changes.map((c) => c.errorReason ?? null)}::text[],
        ${changes.map((c) => c.deliveredSegments ?? null)}::smallint[])
        AS v(id, status, previous, smsc, segments, error_code, error_reason, delivered_segments)`)}
    SELECT id, route, metadata, delivered_segments, segments, smsc, submitted_at, possible_duplicate,
      ${readFinalParts ? sql`status = 'submitted' AND ${hasFinalPart(sql`changed.id`)}` : sql`false`} AS partly_final
    FROM changed`.execute(tx);
  const byId = new Map(result.rows.map((r) => [r.id, r]));
  const at = new Date();
  const applied: StatusChange[] = [];
  for (const c of changes) {
    const row = byId.get(c.id);
    if (!row) continue;
    if (row.partly_final) partlyFinal.add(c.id);
    applied.push(appliedChange(c, row, at));
  }
  await enqueueStatusWebhooks(tx, applied, statusWebhooks);
  return { applied, partlyFinal };
}

/** A message row as a status change left it: what the change's event reports beside the change. */
export interface ChangedRow {
  id: string;
  route: string;
  metadata: Record<string, unknown> | null;
  delivered_segments: number;
  segments: number | null;
  smsc: string | null;
  submitted_at: Date | null;
  possible_duplicate: boolean;
}

/** The change `c` as applied to `row`, for its event (what the change leaves out, the row tells). */
export function appliedChange(c: StatusChange, row: ChangedRow, at: Date): StatusChange {
  // Every field written out, not spread from the change: one shape for every applied change,
  // which the event and metric code that reads them all stays fast on.
  return {
    id: c.id,
    status: c.status,
    previous: c.previous,
    errorCode: c.errorCode,
    errorReason: c.errorReason,
    route: c.route ?? row.route,
    metadata: c.metadata ?? row.metadata,
    segments: c.segments ?? row.segments,
    smsc: c.smsc ?? row.smsc,
    deliveredSegments: c.deliveredSegments ?? row.delivered_segments,
    submittedAt: row.submitted_at,
    possibleDuplicate: row.possible_duplicate,
    at,
  };
}

/** Whether the message `id` has a part with its final receipt: only such a message can settle. */
const hasFinalPart = (id: RawBuilder<unknown>): RawBuilder<unknown> =>
  sql`EXISTS (SELECT 1 FROM segments f WHERE f.message_id = ${id} AND f.status = ANY (${[...SEGMENT_FINAL_ORDER]}::text[]))`;

export async function enqueueStatusWebhooks(tx: Tx, changes: readonly StatusChange[], statusWebhooks: readonly string[]): Promise<void> {
  if (statusWebhooks.length === 0 || changes.length === 0) return;
  const at = new Date();
  await enqueueDeliveries(
    tx,
    statusWebhooks,
    changes.map((c) => ({ type: 'message.status', body: { ...statusEvent(c, at) } })),
  );
}

/**
 * Two CTEs, `changed` and `superseded`, that apply the status changes `v` of `from` (id, status,
 * previous, smsc, segments, error_code, error_reason, delivered_segments; null: unchanged) forward
 * only, to messages still in `previous`. The row itself is each applied change's event (see
 * row-events.ts); only a final status that a better report replaces is stored as an event, since
 * the row keeps the latest. `changed` returns the message as changed (m.id, m.route, m.metadata,
 * m.delivered_segments, m.segments, m.smsc, m.submitted_at, m.possible_duplicate, m.status),
 * v.previous, and the change's own error as change_error_code and change_error_reason.
 */
export function changeMessagesFrom(from: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    changed AS (
      UPDATE messages AS m SET
        status = v.status,
        smsc = COALESCE(v.smsc, m.smsc),
        segments = COALESCE(v.segments, m.segments),
        delivered_segments = COALESCE(v.delivered_segments, m.delivered_segments),
        -- A delivered message has no error, even when an earlier copy's receipt reported one.
        error_code = CASE WHEN v.status = 'delivered' THEN NULL ELSE COALESCE(v.error_code, m.error_code) END,
        error_reason = CASE WHEN v.status = 'delivered' THEN NULL ELSE COALESCE(v.error_reason, m.error_reason) END,
        owner = NULL,
        updated_at = now(),
        -- When the SMSC accepted its last part (the answers are committed before the change), so that
        -- a receipt matched in the same transaction still shows the time it took.
        submitted_at = CASE WHEN v.status = 'submitted'
          THEN COALESCE((SELECT max(sg.responded_at) FROM segments sg WHERE sg.message_id = m.id), now())
          ELSE m.submitted_at END,
        final_at = CASE WHEN v.status <> 'submitted' THEN now() ELSE m.final_at END
      FROM ${from}
      -- The messages come by id. Written '=', the check of the status they had was answered, when
      -- the caller's statuses are constants ('submitted' for receipts), from the partial index of
      -- messages in that status: planned on statistics that showed a few, it read every submitted
      -- message and compared each with each change (100 receipts: 16 ms among 1,600 messages
      -- awaiting receipts, 73 ms among 19,000). No partial index answers IS NOT DISTINCT FROM,
      -- which is '=' here (neither side is NULL).
      WHERE m.id = v.id AND m.status IS NOT DISTINCT FROM v.previous
      RETURNING m.id, m.route, m.metadata, m.delivered_segments, m.segments, m.smsc, m.submitted_at, m.possible_duplicate,
        m.status, v.previous, v.error_code AS change_error_code, v.error_reason AS change_error_reason
    ), superseded AS (
      -- before: the row as the statement found it (every part of a statement reads one snapshot,
      -- not the update), with the final status it loses. Stored once: a row from before events
      -- were read off the message has it stored already.
      INSERT INTO message_events (message_id, status, previous, at, detail)
      SELECT before.id, ${finalEventOf('before')}
      FROM changed c JOIN messages before ON before.id = c.id AND before.status = c.previous
      WHERE c.previous = ANY (${FINAL}) AND NOT ${eventStored('before', sql.ref('before.status'))}
    )`;
}

/**
 * Messages submitted with receipts requested that no final receipt reached in time: past their
 * validity plus grace they are `expired`; without a validity, past `unknownAfterMs` `unknown`.
 */
export async function sweepOverdue(db: Db, graceMs: number, unknownAfterMs: number, limit: number, statusWebhooks: readonly string[] = []): Promise<StatusChange[]> {
  return db.transaction().execute(async (tx) => {
    const due = await sql<{ id: string; validity_seconds: number | null }>`
      SELECT id, validity_seconds FROM messages
      WHERE status = 'submitted' AND dlr
        AND ((validity_seconds IS NOT NULL AND submitted_at + make_interval(secs => validity_seconds + ${graceMs / 1000}) < now())
          OR (validity_seconds IS NULL AND submitted_at + make_interval(secs => ${unknownAfterMs / 1000}) < now()))
      ORDER BY submitted_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`.execute(tx);
    return applyChanges(
      tx,
      due.rows.map((r) => ({ id: r.id, previous: 'submitted' as const, ...overdueOutcome(r.validity_seconds) })),
      statusWebhooks,
    );
  });
}
