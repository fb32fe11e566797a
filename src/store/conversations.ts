/**
 * Conversations: the thread between one customer number and one of our numbers, in sessions. An
 * outbound message opens a session or continues the open one (its window set by the payload or
 * the default); a reply within the window joins it, one outside opens a new one.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import type { OutboundTouch, ConversationView, AnsweredMessage } from '../domain/conversation.ts';

type Tx = Transaction<Database> | Db;

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
      last_outbound_at = now(),
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
    INSERT INTO conversations (customer, our_number, tags, expires_at, last_outbound_id, last_outbound_at)
    SELECT v.customer, v.our_number, v.tags::jsonb, now() + make_interval(secs => v.ttl), v.message_id, now()
    FROM unnest(${fresh.map((t) => t.customer)}::text[], ${fresh.map((t) => t.ourNumber)}::text[],
      ${fresh.map((t) => t.ttlSeconds)}::integer[], ${fresh.map((t) => JSON.stringify(t.tags))}::text[],
      ${fresh.map((t) => t.messageId)}::text[]) AS v(customer, our_number, ttl, tags, message_id)`.execute(tx);
}

export async function updateConversation(db: Db, id: string, change: { tags?: Record<string, unknown>; state?: string }): Promise<void> {
  if (change.tags === undefined && change.state === undefined) return;
  await sql`UPDATE conversations SET
      tags = tags || ${JSON.stringify(change.tags ?? {})}::jsonb,
      state = COALESCE(${change.state ?? null}, state)
    WHERE id = ${id}`.execute(db);
}

const pairKey = (customer: string, ourNumber: string): string => `${customer}\0${ourNumber}`;

/**
 * The sessions a batch of replies joins, one round trip for all: each pair's open session
 * (extended), or a new one where none is open. Keyed by `customer\0ourNumber`.
 */
export async function joinForReplies(
  db: Db,
  pairs: readonly { customer: string; ourNumber: string }[],
  ttlSeconds: number,
): Promise<Map<string, ConversationView>> {
  const unique = [...new Map(pairs.map((p) => [pairKey(p.customer, p.ourNumber), p])).values()];
  const out = new Map<string, ConversationView>();
  if (unique.length === 0) return out;
  type Row = {
    id: string;
    customer: string;
    our_number: string;
    state: string | null;
    tags: Record<string, unknown>;
    expires_at: Date;
    assigned_to: string | null;
  };
  await db.transaction().execute(async (tx) => {
    const joined = await sql<Row>`
      UPDATE conversations AS c SET last_activity_at = now(), last_inbound_at = now(),
        expires_at = greatest(c.expires_at, now() + make_interval(secs => ${ttlSeconds}))
      FROM (
        SELECT DISTINCT ON (o.customer, o.our_number) o.id
        FROM conversations o
        JOIN unnest(${unique.map((p) => p.customer)}::text[], ${unique.map((p) => p.ourNumber)}::text[]) AS v(customer, our_number)
          ON o.customer = v.customer AND o.our_number = v.our_number
        ORDER BY o.customer, o.our_number, o.opened_at DESC
      ) AS latest
      WHERE c.id = latest.id AND c.expires_at > now()
      RETURNING c.id, c.customer, c.our_number, c.state, c.tags, c.expires_at, c.assigned_to`.execute(tx);
    for (const r of joined.rows) {
      out.set(pairKey(r.customer, r.our_number), {
        id: r.id,
        opened: false,
        state: r.state,
        tags: r.tags,
        expiresAt: r.expires_at,
        assignedTo: r.assigned_to,
      });
    }
    const fresh = unique.filter((p) => !out.has(pairKey(p.customer, p.ourNumber)));
    if (fresh.length === 0) return;
    const opened = await sql<Row>`
      INSERT INTO conversations (customer, our_number, expires_at, last_inbound_at)
      SELECT v.customer, v.our_number, now() + make_interval(secs => ${ttlSeconds}), now()
      FROM unnest(${fresh.map((p) => p.customer)}::text[], ${fresh.map((p) => p.ourNumber)}::text[]) AS v(customer, our_number)
      RETURNING id, customer, our_number, state, tags, expires_at, assigned_to`.execute(tx);
    for (const r of opened.rows) {
      out.set(pairKey(r.customer, r.our_number), {
        id: r.id,
        opened: true,
        state: r.state,
        tags: r.tags,
        expiresAt: r.expires_at,
        assignedTo: r.assigned_to,
      });
    }
  });
  return out;
}

/**
 * For each reply of a batch, the message it answers: the latest from our number to the customer
 * before the reply, leaving out Parley's own answers to earlier replies and messages refused before
 * they were sent. Keyed by the caller's key.
 */
export async function latestOutbounds(
  db: Db,
  items: readonly { key: string; customer: string; ourNumber: string; before: Date }[],
): Promise<Map<string, AnsweredMessage>> {
  const out = new Map<string, AnsweredMessage>();
  if (items.length === 0) return out;
  const rows = await sql<{ key: string; id: string; replies: AnsweredMessage['replies']; metadata: Record<string, unknown> | null; survey: Record<string, unknown> | null }>`
    SELECT v.key, m.id, m.replies, m.metadata, m.survey
    FROM unnest(${items.map((i) => i.key)}::text[], ${items.map((i) => i.customer)}::text[],
      ${items.map((i) => i.ourNumber)}::text[], ${items.map((i) => i.before)}::timestamptz[]) AS v(key, customer, our_number, before)
    CROSS JOIN LATERAL (
      SELECT id, replies, metadata, survey FROM messages
      WHERE to_addr = v.customer AND from_addr = v.our_number AND created_at <= v.before
        AND reply_to IS NULL AND (status <> 'failed' OR submitted_at IS NOT NULL)
      ORDER BY created_at DESC
      LIMIT 1
    ) AS m`.execute(db);
  for (const r of rows.rows) out.set(r.key, { id: r.id, replies: r.replies, metadata: r.metadata, survey: r.survey });
  return out;
}
