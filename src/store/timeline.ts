/**
 * Read-only queries for looking at one message after the fact (`parley status`, the demo): the
 * message row, its segments as the SMSC answered them, the delivery receipts matched to it, its
 * status history, and the customer messages it is linked to (the one an auto-reply answers, and
 * those that answered it). Rows leave here as Parley's own camelCase types.
 */
import { sql } from 'kysely';
import { batchArray } from './batch-array.ts';
import { FINAL, eventDetail, eventStored, finalEventOf } from './row-events.ts';
import type { Db } from './db.ts';
import type { StoredReceipt, StatusHistoryEntry, LinkedReply, MessageTimeline } from '../domain/timeline.ts';
import { attemptsOf } from './messages.ts';

/** One message with its segments and status history, or undefined when there is no such id. */
export async function readMessageTimeline(db: Db, id: string): Promise<MessageTimeline | undefined> {
  const [found] = await readMessageTimelines(db, [id]);
  return found;
}

/** The timelines of the messages among `ids` that exist, in the order of `ids`. */
export async function readMessageTimelines(db: Db, ids: readonly string[]): Promise<MessageTimeline[]> {
  if (ids.length === 0) return [];
  const [messages, segments, receipts, history, answered] = await Promise.all([
    db.selectFrom('messages').selectAll().select(attemptsOf('messages').as('counted_attempts')).where('id', 'in', ids).execute(),
    db.selectFrom('segments').selectAll().where('message_id', 'in', ids).orderBy('message_id').orderBy('seq').execute(),
    readReceipts(db, ids),
    readStatusHistory(db, ids),
    readLinkedReplies(db, 'in_reply_to', ids),
  ]);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const replyIds = [...new Set(messages.map((m) => m.reply_to).filter((r): r is string => r !== null))];
  const answering = new Map((await readLinkedReplies(db, 'id', replyIds)).map((r) => [r.id, r]));
  const out: MessageTimeline[] = [];
  for (const id of ids) {
    const m = byId.get(id);
    if (!m) continue;
    out.push({
      message: {
        id: m.id,
        to: m.to_addr,
        from: m.from_addr,
        text: m.body,
        route: m.route,
        priority: m.priority,
        dlr: m.dlr,
        validitySeconds: m.validity_seconds,
        status: m.status,
        smsc: m.smsc,
        segments: m.segments,
        deliveredSegments: m.delivered_segments,
        errorCode: m.error_code,
        errorReason: m.error_reason,
        owner: m.owner,
        attempts: m.counted_attempts,
        possibleDuplicate: m.possible_duplicate,
        metadata: m.metadata,
        createdAt: m.created_at,
        updatedAt: m.updated_at,
        submittedAt: m.submitted_at,
        finalAt: m.final_at,
        replyTo: m.reply_to,
        expects: m.replies && typeof m.replies === 'object' ? Object.keys(m.replies) : [],
      },
      segments: segments
        .filter((s) => s.message_id === id)
        .map((s) => ({
          seq: s.seq,
          total: s.total,
          smsc: s.smsc,
          bind: s.bind,
          smscMessageId: s.smsc_message_id,
          commandStatus: s.command_status,
          status: s.status,
          attempts: s.attempts,
          possibleDuplicate: s.possible_duplicate,
          submittedAt: s.submitted_at,
          respondedAt: s.responded_at,
          receiptState: s.receipt_state,
          errorCode: s.error_code,
          networkError: s.network_error,
          finalAt: s.final_at,
        })),
      receipts: receipts.filter((r) => r.messageId === id).map(({ messageId: _messageId, ...r }) => r),
      history: history.filter((h) => h.messageId === id),
      answers: (m.reply_to === null ? undefined : answering.get(m.reply_to)) ?? null,
      replies: answered.filter((r) => r.inReplyTo === id),
    });
  }
  return out;
}

/**
 * Status changes of these messages in the order they happened: queued, submitted, then each final
 * status (a possible duplicate's better report comes after the one it replaced).
 *
 * Most are read off the message row (row-events.ts), with the status as their event id ("0" for
 * queued): queued at created_at, submitted at submitted_at, the final status at final_at. Stored
 * events (a replaced final status, and every event of rows written before events were read off
 * the row) keep their own id; the row's event is left out when one of its status is stored.
 */
export async function readStatusHistory(db: Db, ids: readonly string[]): Promise<StatusHistoryEntry[]> {
  if (ids.length === 0) return [];
  const wanted = batchArray([...ids], 'text[]');
  const rows = await sql<{ event_id: string; message_id: string; status: string; previous: string | null; at: Date; detail: Record<string, unknown> | null }>`
    SELECT h.event_id, h.message_id, h.status, h.previous, h.at, h.detail FROM (
      SELECT '0' AS event_id, 0::bigint AS n, 0 AS phase, m.id AS message_id, 'queued'::text AS status, NULL::text AS previous,
        m.created_at AS at, NULL::jsonb AS detail
      FROM messages m WHERE m.id = ANY (${wanted})
      UNION ALL
      SELECT 'submitted', 0, 1, m.id, 'submitted', 'queued', m.submitted_at, ${eventDetail(sql`m.smsc`, sql`NULL::text`, sql`NULL::text`)}
      FROM messages m WHERE m.id = ANY (${wanted}) AND m.submitted_at IS NOT NULL AND NOT ${eventStored('m', sql`'submitted'`)}
      UNION ALL
      SELECT m.status, 0, 2, m.id, ${finalEventOf('m')}
      FROM messages m WHERE m.id = ANY (${wanted}) AND m.status = ANY (${FINAL}) AND NOT ${eventStored('m', sql.ref('m.status'))}
      UNION ALL
      -- Rows from before the queued event was read off the row have previous IS NULL: left out.
      SELECT e.id::text, e.id, CASE WHEN e.status = 'submitted' THEN 1 ELSE 2 END, e.message_id, e.status, e.previous, e.at, e.detail
      FROM message_events e WHERE e.message_id = ANY (${wanted}) AND e.previous IS NOT NULL
    ) h
    ORDER BY h.phase, h.at, h.n`.execute(db);
  return rows.rows.map((e) => ({
    eventId: e.event_id,
    messageId: e.message_id,
    status: e.status,
    previous: e.previous,
    at: e.at,
    detail: e.detail,
  }));
}

/** Receipts matched to these messages, in the order they were received. */
async function readReceipts(db: Db, ids: readonly string[]): Promise<(StoredReceipt & { messageId: string })[]> {
  const rows = await db
    .selectFrom('receipts')
    .select([
      'id',
      'message_id',
      'smsc',
      'bind',
      'smsc_message_id',
      'seq',
      'state',
      'final',
      'error_code',
      'network_error',
      'submit_date',
      'done_date',
      'received_at',
      'matched_at',
      'body',
    ])
    .where('message_id', 'in', ids)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    messageId: r.message_id ?? '',
    receiptId: String(r.id),
    smsc: r.smsc,
    bind: r.bind,
    smscMessageId: r.smsc_message_id,
    seq: r.seq,
    state: r.state,
    final: r.final,
    errorCode: r.error_code,
    networkError: r.network_error,
    submitDate: r.submit_date,
    doneDate: r.done_date,
    receivedAt: r.received_at,
    matchedAt: r.matched_at,
    text: r.body,
  }));
}

/** Customer messages whose `column` is one of `values`, oldest first. */
async function readLinkedReplies(db: Db, column: 'id' | 'in_reply_to', values: readonly string[]): Promise<LinkedReply[]> {
  if (values.length === 0) return [];
  const rows = await db
    .selectFrom('replies')
    .select([
      'id',
      'from_addr',
      'to_addr',
      'body',
      'received_at',
      'status',
      'matched_kind',
      'keyword',
      'rule',
      'in_reply_to',
      'conversation_id',
      'answer_message_id',
      'handled_at',
    ])
    .where(column, 'in', values)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    from: r.from_addr,
    to: r.to_addr,
    text: r.body,
    receivedAt: r.received_at,
    status: r.status,
    matchedKind: r.matched_kind,
    keyword: r.keyword,
    rule: r.rule,
    inReplyTo: r.in_reply_to,
    conversationId: r.conversation_id === null ? null : String(r.conversation_id),
    answerMessageId: r.answer_message_id,
    handledAt: r.handled_at,
  }));
}
