/**
 * Conversations: the thread between one customer number and one of our numbers, in sessions. An
 * outbound message opens a session or continues the open one (its window set by the payload or
 * the default); a reply within the window joins it, one outside opens a new one.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';

type Tx = Transaction<Database> | Db;

export interface OutboundTouch {
  readonly customer: string;
  readonly ourNumber: string;
  readonly ttlSeconds: number;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly messageId: string;
}

/** Opens or continues the conversations of a batch of outbound messages (the last per pair wins). */
export async function touchForOutbound(tx: Tx, touches: readonly OutboundTouch[]): Promise<void> {
  const byPair = new Map<string, OutboundTouch>();
  for (const t of touches) byPair.set(`${t.customer}\0${t.ourNumber}`, t);
  const list = [...byPair.values()];
  if (list.length === 0) return;
  // Continue the open session of each pair where there is one...
  const continued = await sql<{ customer: string; our_number: string }>`
    UPDATE conversations AS c SET
      expires_at = greatest(c.expires_at, now() + make_interval(secs => v.ttl)),
      tags = c.tags || v.tags::jsonb,
      last_activity_at = now(),
      last_outbound_id = v.message_id
    FROM unnest(${list.map((t) => t.customer)}::text[], ${list.map((t) => t.ourNumber)}::text[],
      ${list.map((t) => t.ttlSeconds)}::integer[], ${list.map((t) => JSON.stringify(t.tags))}::text[],
      ${list.map((t) => t.messageId)}::text[]) AS v(customer, our_number, ttl, tags, message_id)
    WHERE c.id = (SELECT id FROM conversations o WHERE o.customer = v.customer AND o.our_number = v.our_number
                  ORDER BY o.opened_at DESC LIMIT 1)
      AND c.expires_at > now()
    RETURNING c.customer, c.our_number`.execute(tx);
  const done = new Set(continued.rows.map((r) => `${r.customer}\0${r.our_number}`));
  const fresh = list.filter((t) => !done.has(`${t.customer}\0${t.ourNumber}`));
  if (fresh.length === 0) return;
  // ...and open one for the others.
  await sql`
    INSERT INTO conversations (customer, our_number, tags, expires_at, last_outbound_id)
    SELECT v.customer, v.our_number, v.tags::jsonb, now() + make_interval(secs => v.ttl), v.message_id
    FROM unnest(${fresh.map((t) => t.customer)}::text[], ${fresh.map((t) => t.ourNumber)}::text[],
      ${fresh.map((t) => t.ttlSeconds)}::integer[], ${fresh.map((t) => JSON.stringify(t.tags))}::text[],
      ${fresh.map((t) => t.messageId)}::text[]) AS v(customer, our_number, ttl, tags, message_id)`.execute(tx);
}

export interface ConversationView {
  readonly id: string;
  /** Opened by this reply: no session was open, so the reply answers no earlier message. */
  readonly opened: boolean;
  readonly state: string | null;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
}

/** The session a reply joins (the open one, extended), or a new one when none is open. */
export async function joinForReply(db: Db, customer: string, ourNumber: string, ttlSeconds: number): Promise<ConversationView> {
  return db.transaction().execute(async (tx) => {
    const open = await sql<{ id: string; state: string | null; tags: Record<string, unknown>; expires_at: Date }>`
      UPDATE conversations SET last_activity_at = now(),
        expires_at = greatest(expires_at, now() + make_interval(secs => ${ttlSeconds}))
      WHERE id = (SELECT id FROM conversations WHERE customer = ${customer} AND our_number = ${ourNumber}
                  ORDER BY opened_at DESC LIMIT 1 FOR UPDATE)
        AND expires_at > now()
      RETURNING id, state, tags, expires_at`.execute(tx);
    const joined = open.rows[0];
    const row =
      joined ??
      (
        await sql<{ id: string; state: string | null; tags: Record<string, unknown>; expires_at: Date }>`
          INSERT INTO conversations (customer, our_number, expires_at)
          VALUES (${customer}, ${ourNumber}, now() + make_interval(secs => ${ttlSeconds}))
          RETURNING id, state, tags, expires_at`.execute(tx)
      ).rows[0]!;
    return { id: row.id, opened: joined === undefined, state: row.state, tags: row.tags, expiresAt: row.expires_at };
  });
}

export async function updateConversation(db: Db, id: string, change: { tags?: Record<string, unknown>; state?: string }): Promise<void> {
  if (change.tags === undefined && change.state === undefined) return;
  await sql`UPDATE conversations SET
      tags = tags || ${JSON.stringify(change.tags ?? {})}::jsonb,
      state = COALESCE(${change.state ?? null}, state)
    WHERE id = ${id}`.execute(db);
}

export interface AnsweredMessage {
  readonly id: string;
  readonly replies: Record<string, { reply?: string; webhook?: string }> | null;
  readonly metadata: Record<string, unknown> | null;
}

/** The latest message from our number to the customer before `before` that a reply can answer. */
export async function latestOutbound(db: Db, customer: string, ourNumber: string, before: Date): Promise<AnsweredMessage | undefined> {
  const row = await db
    .selectFrom('messages')
    .select(['id', 'replies', 'metadata'])
    .where('to_addr', '=', customer)
    .where('from_addr', '=', ourNumber)
    .where('created_at', '<=', before)
    // A reply answers what was sent to the customer, not Parley's own answers to earlier replies,
    // nor a message refused before it was sent.
    .where('reply_to', 'is', null)
    .where((eb) => eb.or([eb('status', '!=', 'failed'), eb('submitted_at', 'is not', null)]))
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: row.id, replies: row.replies as AnsweredMessage['replies'], metadata: row.metadata } : undefined;
}

export interface ThreadEntry {
  readonly at: Date;
  readonly direction: 'out' | 'in';
  readonly id: string;
  readonly ourNumber: string;
  readonly text: string;
  readonly status: string;
  readonly conversationId: string | null;
  readonly detail: string | null;
}

/** Everything exchanged with one customer, oldest first. */
export async function customerThread(db: Db, customer: string, limit: number): Promise<ThreadEntry[]> {
  const res = await sql<ThreadEntry>`
    SELECT * FROM (
      SELECT created_at AS at, 'out' AS direction, id, from_addr AS "ourNumber", body AS text, status,
        NULL::text AS "conversationId", reply_to AS detail
      FROM messages WHERE to_addr = ${customer}
      UNION ALL
      SELECT received_at, 'in', id, to_addr, body, status, conversation_id::text,
        concat_ws(' ', matched_kind, keyword, rule)
      FROM replies WHERE from_addr = ${customer}
    ) t ORDER BY at DESC LIMIT ${limit}`.execute(db);
  return res.rows.reverse();
}
