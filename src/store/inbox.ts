/**
 * Conversations as people handle them (the HTTP API and the agent inbox): listed newest activity
 * first with filters and cursor paging, read back as a thread (messages both ways, with receipts
 * and how each customer message was matched), assigned to a person, closed, handed back.
 *
 * A conversation's outbound messages are those between its two numbers from its opening until the
 * next conversation of the pair opened (an outbound message continues the open session or opens
 * the next one, see conversations.ts); its customer messages carry its id.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { blockedPairs } from './opt-outs.ts';
import { readMessageTimelines } from './timeline.ts';
import type { ConversationStatus, ConversationSummary, ConversationFilter, ConversationCursor, ConversationPage, ConversationEntry, ConversationThread, HandlingResult } from '../domain/conversation.ts';

interface SummaryRow {
  id: string;
  customer: string;
  our_number: string;
  state: string | null;
  tags: Record<string, unknown>;
  assigned_to: string | null;
  assigned_at: Date | null;
  opened_at: Date;
  last_activity_at: Date;
  activity_key: string;
  expires_at: Date;
  closed_at: Date | null;
  last_inbound_at: Date | null;
  last_outbound_at: Date | null;
  status: ConversationStatus;
  unanswered: boolean;
  last_direction: 'in' | 'out' | null;
  last_text: string | null;
  last_at: Date | null;
}

const STATUS = sql<ConversationStatus>`CASE
    WHEN c.closed_at IS NOT NULL THEN 'closed'
    WHEN c.expires_at <= now() THEN 'expired'
    WHEN c.assigned_to IS NOT NULL THEN 'assigned'
    ELSE 'open' END`;

const UNANSWERED = sql<boolean>`(c.closed_at IS NULL AND c.last_inbound_at IS NOT NULL
    AND (c.last_outbound_at IS NULL OR c.last_outbound_at < c.last_inbound_at))`;

/** The end of a conversation's span of outbound messages: when the pair's next conversation opened. */
const NEXT_OPENED = sql<Date>`COALESCE((SELECT min(n.opened_at) FROM conversations n
    WHERE n.customer = c.customer AND n.our_number = c.our_number AND n.opened_at > c.opened_at), 'infinity'::timestamptz)`;

const SUMMARY_COLUMNS = sql`c.id::text AS id, c.customer, c.our_number, c.state, c.tags, c.assigned_to, c.assigned_at,
    c.opened_at, c.last_activity_at, c.last_activity_at::text AS activity_key, c.expires_at, c.closed_at,
    c.last_inbound_at, c.last_outbound_at, ${STATUS} AS status, ${UNANSWERED} AS unanswered,
    last.direction AS last_direction, last.body AS last_text, last.at AS last_at`;

const LAST_MESSAGE = sql`LEFT JOIN LATERAL (
    SELECT * FROM (
      (SELECT 'in' AS direction, r.body, r.received_at AS at FROM replies r
        WHERE r.conversation_id = c.id
        ORDER BY r.received_at DESC LIMIT 1)
      UNION ALL
      (SELECT 'out', m.body, m.created_at FROM messages m
        WHERE m.to_addr = c.customer AND m.from_addr = c.our_number
          AND m.created_at >= c.opened_at AND m.created_at < ${NEXT_OPENED}
        ORDER BY m.created_at DESC LIMIT 1)
    ) x ORDER BY at DESC LIMIT 1) last ON true`;

function toSummary(r: SummaryRow): ConversationSummary {
  return {
    id: r.id,
    customer: r.customer,
    ourNumber: r.our_number,
    status: r.status,
    state: r.state,
    tags: r.tags,
    assignedTo: r.assigned_to,
    assignedAt: r.assigned_at,
    openedAt: r.opened_at,
    lastActivityAt: r.last_activity_at,
    expiresAt: r.expires_at,
    closedAt: r.closed_at,
    lastInboundAt: r.last_inbound_at,
    lastOutboundAt: r.last_outbound_at,
    unanswered: r.unanswered,
    last: r.last_direction && r.last_text !== null && r.last_at ? { direction: r.last_direction, text: r.last_text, at: r.last_at } : null,
  };
}

/** A page of conversations, latest activity first. */
export async function listConversations(
  db: Db,
  filter: ConversationFilter,
  limit: number,
  after?: ConversationCursor,
): Promise<ConversationPage> {
  const where = [sql`true`];
  if (filter.ourNumber !== undefined) where.push(sql`c.our_number = ${filter.ourNumber}`);
  if (filter.customer !== undefined) where.push(sql`c.customer = ${filter.customer}`);
  if (filter.state !== undefined) where.push(sql`c.state = ${filter.state}`);
  if (filter.status !== undefined) where.push(sql`${STATUS} = ${filter.status}`);
  if (filter.tag !== undefined) {
    where.push(
      filter.tag.value === undefined
        ? sql`c.tags ? ${filter.tag.key}`
        : sql`c.tags @> ${JSON.stringify({ [filter.tag.key]: filter.tag.value })}::jsonb`,
    );
  }
  if (filter.unanswered !== undefined) where.push(filter.unanswered ? UNANSWERED : sql`NOT ${UNANSWERED}`);
  if (after !== undefined) where.push(sql`(c.last_activity_at, c.id) < (${after.activity}::timestamptz, ${after.id}::bigint)`);
  const rows = await sql<SummaryRow>`
    SELECT ${SUMMARY_COLUMNS}
    FROM conversations c ${LAST_MESSAGE}
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY c.last_activity_at DESC, c.id DESC
    LIMIT ${limit + 1}`.execute(db);
  const page = rows.rows.slice(0, limit);
  const lastRow = page[page.length - 1];
  return {
    conversations: page.map(toSummary),
    next: rows.rows.length > limit && lastRow ? { activity: lastRow.activity_key, id: lastRow.id } : null,
  };
}

export async function readConversationSummary(db: Db, id: string): Promise<ConversationSummary | undefined> {
  const rows = await sql<SummaryRow>`
    SELECT ${SUMMARY_COLUMNS} FROM conversations c ${LAST_MESSAGE} WHERE c.id = ${id}::bigint`.execute(db);
  const row = rows.rows[0];
  return row ? toSummary(row) : undefined;
}

/** The thread of one conversation, or undefined when there is no such conversation. */
export async function readConversationThread(db: Db, id: string, limit: number): Promise<ConversationThread | undefined> {
  const conversation = await readConversationSummary(db, id);
  if (!conversation) return undefined;
  type Row = { direction: 'in' | 'out'; id: string; at: Date };
  const [rows, total, blocked] = await Promise.all([
    sql<Row>`
      SELECT * FROM (
        SELECT 'out' AS direction, m.id, m.created_at AS at FROM conversations c
          JOIN messages m ON m.to_addr = c.customer AND m.from_addr = c.our_number
            AND m.created_at >= c.opened_at AND m.created_at < ${NEXT_OPENED}
          WHERE c.id = ${id}::bigint
        UNION ALL
        SELECT 'in', r.id, r.received_at FROM replies r WHERE r.conversation_id = ${id}::bigint
      ) t ORDER BY at DESC, id DESC LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`
      SELECT (SELECT count(*) FROM conversations c
          JOIN messages m ON m.to_addr = c.customer AND m.from_addr = c.our_number
            AND m.created_at >= c.opened_at AND m.created_at < ${NEXT_OPENED}
          WHERE c.id = ${id}::bigint)::int
        + (SELECT count(*) FROM replies WHERE conversation_id = ${id}::bigint)::int AS n`.execute(db),
    blockedPairs(db, [{ customer: conversation.customer, ourNumber: conversation.ourNumber }]),
  ]);
  const ordered = rows.rows.reverse();
  const outIds = ordered.filter((r) => r.direction === 'out').map((r) => r.id);
  const inIds = ordered.filter((r) => r.direction === 'in').map((r) => r.id);
  const [timelines, replies] = await Promise.all([
    readMessageTimelines(db, outIds),
    inIds.length === 0 ? Promise.resolve([]) : db.selectFrom('replies').selectAll().where('id', 'in', inIds).execute(),
  ]);
  const outById = new Map(timelines.map((t) => [t.message.id, t]));
  const inById = new Map(replies.map((r) => [r.id, r]));
  const entries: ConversationEntry[] = [];
  for (const row of ordered) {
    if (row.direction === 'out') {
      const t = outById.get(row.id);
      if (!t) continue;
      const m = t.message;
      entries.push({
        direction: 'out',
        id: m.id,
        at: m.createdAt,
        text: m.text,
        status: m.status,
        errorCode: m.errorCode,
        errorReason: m.errorReason,
        segments: m.segments,
        deliveredSegments: m.deliveredSegments,
        submittedAt: m.submittedAt,
        finalAt: m.finalAt,
        replyTo: m.replyTo,
        metadata: m.metadata,
        receipts: t.receipts.map((r) => ({ seq: r.seq, state: r.state, final: r.final, errorCode: r.errorCode, receivedAt: r.receivedAt })),
      });
    } else {
      const r = inById.get(row.id);
      if (!r) continue;
      entries.push({
        direction: 'in',
        id: r.id,
        at: r.received_at,
        text: r.body,
        status: r.status,
        parts: r.parts,
        incomplete: r.incomplete,
        matchedKind: r.matched_kind,
        keyword: r.keyword,
        rule: r.rule,
        actions: r.actions,
        inReplyTo: r.in_reply_to,
        answerMessageId: r.answer_message_id,
        resolvedAutomatically: r.resolved_automatically,
        handledAt: r.handled_at,
      });
    }
  }
  return {
    conversation,
    optedOut: blocked.size > 0,
    entries,
    total: total.rows[0]?.n ?? 0,
  };
}

const notFound = (id: string): HandlingResult => ({ ok: false, code: 'conversation_not_found', reason: `there is no conversation ${id}` });

async function afterUpdate(db: Db, id: string, updated: number): Promise<HandlingResult> {
  const conversation = await readConversationSummary(db, id);
  if (!conversation) return notFound(id);
  if (updated === 0) {
    return {
      ok: false,
      code: 'conversation_ended',
      reason: `conversation ${id} has ended (${conversation.status}); the customer's next message opens a new one`,
    };
  }
  return { ok: true, conversation };
}

/**
 * Gives the conversation to a person: automation stops answering it until it is handed back or
 * closed. An ended conversation (closed, or past its window) cannot be assigned.
 */
export async function assignConversation(db: Db, id: string, agent: string): Promise<HandlingResult> {
  const res = await sql`
    UPDATE conversations SET assigned_to = ${agent}, assigned_at = now()
    WHERE id = ${id}::bigint AND closed_at IS NULL AND expires_at > now()`.execute(db);
  return afterUpdate(db, id, Number(res.numAffectedRows ?? 0));
}

/** Hands the conversation back to automation (no-op when nobody had it). */
export async function handBackConversation(db: Db, id: string): Promise<HandlingResult> {
  await sql`UPDATE conversations SET assigned_to = NULL, assigned_at = NULL WHERE id = ${id}::bigint`.execute(db);
  const conversation = await readConversationSummary(db, id);
  return conversation ? { ok: true, conversation } : notFound(id);
}

/**
 * Ends the conversation: its window closes now and nobody has it, so the customer's next message
 * (or our next one) opens a new conversation, answered by automation. Closing twice keeps the first time.
 */
export async function closeConversation(db: Db, id: string): Promise<HandlingResult> {
  await sql`
    UPDATE conversations SET closed_at = COALESCE(closed_at, now()), expires_at = least(expires_at, now()),
      assigned_to = NULL, assigned_at = NULL
    WHERE id = ${id}::bigint`.execute(db);
  const conversation = await readConversationSummary(db, id);
  return conversation ? { ok: true, conversation } : notFound(id);
}

/** A message's status now, or undefined when there is no such message. */
export async function readMessageStatus(
  db: Db,
  id: string,
): Promise<{ status: string; errorCode: string | null; errorReason: string | null } | undefined> {
  const row = await db.selectFrom('messages').select(['status', 'error_code', 'error_reason']).where('id', '=', id).executeTakeFirst();
  return row ? { status: row.status, errorCode: row.error_code, errorReason: row.error_reason } : undefined;
}

/**
 * An agent answering a conversation whose window passed keeps it going (rather than the answer
 * opening a new one beside it), unless it was closed or a newer conversation of the pair exists.
 */
export async function reopenForAnswer(db: Db, id: string, ttlSeconds: number): Promise<void> {
  await sql`
    UPDATE conversations c SET expires_at = now() + make_interval(secs => ${ttlSeconds})
    WHERE c.id = ${id}::bigint AND c.closed_at IS NULL AND c.expires_at <= now()
      AND NOT EXISTS (SELECT 1 FROM conversations n
        WHERE n.customer = c.customer AND n.our_number = c.our_number AND n.opened_at > c.opened_at)`.execute(db);
}
