/**
 * Read-only queries for looking at one customer after the fact (`parley conversation`, the demo):
 * every message we sent to the number and every message it sent us, the conversations they belong
 * to, the customer's opt-out state per number, and the deliver_sm parts its messages came in as.
 * Nothing here writes; rows leave as Parley's own camelCase types.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { ThreadEntry, CustomerThread, CustomerPart } from '../domain/customer-thread.ts';

interface EntryRow {
  direction: 'out' | 'in';
  id: string;
  at: Date;
  our_number: string | null;
  body: string;
  status: string;
  error_code: string | null;
  error_reason: string | null;
  segments: number | null;
  final_at: Date | null;
  reply_to: string | null;
  expects: string[] | null;
  conversation_id: string | null;
  parts: number | null;
  incomplete: boolean | null;
  matched_kind: string | null;
  keyword: string | null;
  rule: string | null;
  actions: unknown[] | null;
  in_reply_to: string | null;
  answer_message_id: string | null;
  resolved_automatically: boolean | null;
  handled_at: Date | null;
  error: string | null;
}

/** Everything exchanged with one customer (digits, as stored), the latest `limit` entries, oldest first. */
export async function readCustomerThread(db: Db, customer: string, limit: number): Promise<CustomerThread> {
  const [rows, total, conversations, optOuts] = await Promise.all([
    sql<EntryRow>`
      SELECT * FROM (
        SELECT 'out' AS direction, m.id, m.created_at AS at, m.from_addr AS our_number, m.body, m.status,
          m.error_code, m.error_reason, m.segments, m.final_at, m.reply_to,
          CASE WHEN jsonb_typeof(m.replies) = 'object' THEN ARRAY(SELECT jsonb_object_keys(m.replies)) END AS expects,
          (SELECT c.id::text FROM conversations c
            WHERE c.customer = m.to_addr AND c.our_number = m.from_addr
              AND c.opened_at <= m.created_at AND c.expires_at >= m.created_at
            ORDER BY c.opened_at DESC LIMIT 1) AS conversation_id,
          NULL::smallint AS parts, NULL::boolean AS incomplete, NULL::text AS matched_kind, NULL::text AS keyword,
          NULL::text AS rule, NULL::jsonb AS actions, NULL::text AS in_reply_to, NULL::text AS answer_message_id,
          NULL::boolean AS resolved_automatically, NULL::timestamptz AS handled_at, NULL::text AS error
        FROM messages m WHERE m.to_addr = ${customer}
        UNION ALL
        SELECT 'in', r.id, r.received_at, r.to_addr, r.body, r.status,
          NULL, NULL, NULL, NULL, NULL, NULL,
          r.conversation_id::text,
          r.parts, r.incomplete, r.matched_kind, r.keyword, r.rule, r.actions, r.in_reply_to, r.answer_message_id,
          r.resolved_automatically, r.handled_at, r.error
        FROM replies r WHERE r.from_addr = ${customer}
      ) t
      ORDER BY at DESC, id DESC
      LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`
      SELECT (SELECT count(*) FROM messages WHERE to_addr = ${customer})::int
           + (SELECT count(*) FROM replies WHERE from_addr = ${customer})::int AS n`.execute(db),
    db.selectFrom('conversations').selectAll().where('customer', '=', customer).orderBy('opened_at').orderBy('id').execute(),
    db.selectFrom('opt_outs').selectAll().where('customer', '=', customer).orderBy('scope').execute(),
  ]);
  return {
    customer,
    total: total.rows[0]?.n ?? 0,
    entries: rows.rows.reverse().map(toEntry),
    conversations: conversations.map((c) => ({
      id: String(c.id),
      ourNumber: c.our_number,
      openedAt: c.opened_at,
      lastActivityAt: c.last_activity_at,
      expiresAt: c.expires_at,
      state: c.state,
      tags: c.tags,
    })),
    optOuts: optOuts.map((o) => ({ scope: o.scope, optedOut: o.opted_out, keyword: o.keyword, replyId: o.reply_id, changedAt: o.changed_at })),
  };
}

function toEntry(r: EntryRow): ThreadEntry {
  if (r.direction === 'out') {
    return {
      direction: 'out',
      id: r.id,
      at: r.at,
      ourNumber: r.our_number,
      text: r.body,
      status: r.status,
      errorCode: r.error_code,
      errorReason: r.error_reason,
      segments: r.segments,
      finalAt: r.final_at,
      replyTo: r.reply_to,
      expects: r.expects ?? [],
      conversationId: r.conversation_id,
    };
  }
  return {
    direction: 'in',
    id: r.id,
    at: r.at,
    ourNumber: r.our_number ?? '',
    text: r.body,
    status: r.status,
    parts: r.parts ?? 1,
    incomplete: r.incomplete ?? false,
    matchedKind: r.matched_kind,
    keyword: r.keyword,
    rule: r.rule,
    actions: r.actions,
    inReplyTo: r.in_reply_to,
    conversationId: r.conversation_id,
    answerMessageId: r.answer_message_id,
    resolvedAutomatically: r.resolved_automatically,
    handledAt: r.handled_at,
    error: r.error,
  };
}

/** The parts the customer's messages came in as, oldest first; with `afterId`, only later ones. */
export async function readCustomerParts(db: Db, customer: string, afterId?: string): Promise<CustomerPart[]> {
  let query = db.selectFrom('inbound_parts').selectAll().where('from_addr', '=', customer);
  if (afterId !== undefined) query = query.where('id', '>', afterId);
  const rows = await query.orderBy('id').execute();
  return rows.map((p) => ({
    id: String(p.id),
    smsc: p.smsc,
    bind: p.bind,
    from: p.from_addr,
    to: p.to_addr,
    concatKey: p.concat_key,
    total: p.total,
    seq: p.seq,
    dataCoding: p.data_coding,
    body: p.body,
    receivedAt: p.received_at,
    replyId: p.reply_id,
  }));
}

/** Whether anything at all was exchanged with the number (for choosing a fresh demo customer). */
export async function customerKnown(db: Db, customer: string): Promise<boolean> {
  const row = await sql<{ known: boolean }>`
    SELECT EXISTS (SELECT 1 FROM messages WHERE to_addr = ${customer})
        OR EXISTS (SELECT 1 FROM replies WHERE from_addr = ${customer})
        OR EXISTS (SELECT 1 FROM inbound_parts WHERE from_addr = ${customer})
        OR EXISTS (SELECT 1 FROM opt_outs WHERE customer = ${customer}) AS known`.execute(db);
  return row.rows[0]?.known ?? false;
}
