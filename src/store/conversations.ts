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

const pairKey = (customer: string, ourNumber: string): string => `${customer}\0${ourNumber}`;

/**
 * The id of each pair's latest session, where it is still open, keyed by pairKey: one lookup per
 * pair on conversations_pair. Callers then update those rows by id. One statement joining the batch
 * with conversations was planned as a scan of the whole table (a hash join), whose cost grows with
 * every customer ever written to: 15 ms per batch at 30,000 conversations.
 */
async function openSessions(tx: Tx, pairs: readonly { customer: string; ourNumber: string }[]): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; customer: string; our_number: string }>`
    SELECT o.id, v.customer, v.our_number
    FROM unnest(${pairs.map((p) => p.customer)}::text[], ${pairs.map((p) => p.ourNumber)}::text[]) AS v(customer, our_number)
    CROSS JOIN LATERAL (
      SELECT c.id, c.expires_at FROM conversations c WHERE c.customer = v.customer AND c.our_number = v.our_number
      ORDER BY c.opened_at DESC LIMIT 1) o
    WHERE o.expires_at > now()`.execute(tx);
  return new Map(rows.rows.map((r) => [pairKey(r.customer, r.our_number), r.id]));
}

/** Opens or continues the conversations of a batch of outbound messages (the last per pair wins). */
export async function touchForOutbound(tx: Tx, touches: readonly OutboundTouch[]): Promise<void> {
  const byPair = new Map<string, OutboundTouch>();
  for (const t of touches) byPair.set(pairKey(t.customer, t.ourNumber), t);
  const list = [...byPair.values()];
  if (list.length === 0) return;
  // Continue the open session of each pair where there is one (found first, see openSessions)...
  const openId = await openSessions(tx, list);
  const continuing = list.flatMap((t) => {
    const id = openId.get(pairKey(t.customer, t.ourNumber));
    return id === undefined ? [] : [{ ...t, id }];
  });
  const continued =
    continuing.length === 0
      ? { rows: [] }
      : await sql<{ customer: string; our_number: string }>`
    UPDATE conversations AS c SET
      expires_at = greatest(c.expires_at, now() + make_interval(secs => v.ttl)),
      tags = c.tags || v.tags::jsonb,
      last_activity_at = now(),
      last_outbound_at = now(),
      last_outbound_id = v.message_id
    FROM unnest(${continuing.map((t) => t.id)}::bigint[], ${continuing.map((t) => t.ttlSeconds)}::integer[],
      ${continuing.map((t) => JSON.stringify(t.tags))}::text[], ${continuing.map((t) => t.messageId)}::text[]) AS v(id, ttl, tags, message_id)
    WHERE c.id = v.id AND c.expires_at > now()
    RETURNING c.customer, c.our_number`.execute(tx);
  const done = new Set(continued.rows.map((r) => pairKey(r.customer, r.our_number)));
  const fresh = list.filter((t) => !done.has(pairKey(t.customer, t.ourNumber)));
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
    const open = [...(await openSessions(tx, unique)).values()];
    const joined =
      open.length === 0
        ? { rows: [] }
        : await sql<Row>`
      UPDATE conversations AS c SET last_activity_at = now(), last_inbound_at = now(),
        expires_at = greatest(c.expires_at, now() + make_interval(secs => ${ttlSeconds}))
      WHERE c.id = ANY (${open}::bigint[]) AND c.expires_at > now()
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
