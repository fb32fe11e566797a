/**
 * Read-only queries for looking at one message after the fact (`parley status`, the demo): the
 * message row, its segments as the SMSC answered them, the delivery receipts matched to it, its
 * status history, and the customer messages it is linked to (the one an auto-reply answers, and
 * those that answered it). Rows leave here as Parley's own camelCase types.
 */
import { sql } from 'kysely';
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
 * Status changes of these messages in the order they happened.
 *
 * A message's first event, `queued`, is its row's created_at: insertMessages stores no event row
 * for it (the row says the same). It has event id 0, before every stored change. Rows from before
 * that (previous IS NULL: only a first event has no previous status) are read as the same event.
 */
export async function readStatusHistory(db: Db, ids: readonly string[]): Promise<StatusHistoryEntry[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('messages')
    .select([
      sql<string>`0::bigint`.as('id'),
      'id as message_id',
      sql<string>`'queued'`.as('status'),
      sql<string | null>`NULL::text`.as('previous'),
      'created_at as at',
      sql<Record<string, unknown> | null>`NULL::jsonb`.as('detail'),
    ])
    .where('id', 'in', ids)
    .unionAll(
      db
        .selectFrom('message_events')
        .select(['id', 'message_id', 'status', 'previous', 'at', 'detail'])
        .where('message_id', 'in', ids)
        .where('previous', 'is not', null),
    )
    .orderBy('id')
    .orderBy('at')
    .execute();
  return rows.map((e) => ({
    eventId: String(e.id),
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
