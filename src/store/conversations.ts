/**
 * Conversations: the thread between one customer number and one of our numbers, in sessions. An
 * outbound message opens a session or continues the open one (its window set by the payload or
 * the default); a reply within the window joins it, one outside opens a new one.
 */
import { sql, type RawBuilder } from 'kysely';
import { batchArray } from './batch-array.ts';
import type { Db } from './db.ts';
import type { OutboundTouch } from '../domain/conversation.ts';

/**
 * The latest session of each pair of `batch` (a relation with customer and our_number), where it
 * is still open, as a relation (customer, our_number, id) for a CTE: one lookup per pair on
 * conversations_pair. Callers then update those rows by id. One statement joining the batch with
 * conversations was planned as a scan of the whole table (a hash join), whose cost grows with every
 * customer ever written to: 15 ms per batch at 30,000 conversations.
 */
function openSessions(batch: RawBuilder<unknown>, carried: readonly string[] = []): RawBuilder<unknown> {
  // Columns of the batch carried along, so that a caller need not join the batch again.
  const columns = sql.join(['customer', 'our_number', ...carried].map((c) => sql.ref(`b.${c}`)));
  return sql`SELECT ${columns}, o.id FROM ${batch} b
    CROSS JOIN LATERAL (
      SELECT c.id, c.expires_at FROM conversations c WHERE c.customer = b.customer AND c.our_number = b.our_number
      ORDER BY c.opened_at DESC LIMIT 1) o
    WHERE o.expires_at > now()`;
}

/**
 * The pairs (customer, our_number) of `relation`, as one jsonb object for a MATERIALIZED CTE of one
 * row (inlined, it was aggregated again for each row of the batch), so that whether a pair is among
 * them is one key lookup (`pairs ? pairKey(alias)`). A NOT EXISTS over the
 * CTE itself was planned as a nested loop that read the CTE again for each row of the batch, on
 * the planner's estimate of a row or two per CTE: 500 messages continuing open conversations
 * compared 125,000 pairs.
 */
function pairsOf(relation: string): RawBuilder<unknown> {
  return sql`SELECT COALESCE(jsonb_object_agg(${pairKey('x')}, true), '{}'::jsonb) AS pairs FROM ${sql.table(relation)} x`;
}

/** A pair's key in pairsOf: a JSON array, so that no customer or number can make two pairs look alike. */
function pairKey(alias: string): RawBuilder<unknown> {
  return sql`jsonb_build_array(${sql.ref(`${alias}.customer`)}, ${sql.ref(`${alias}.our_number`)})::text`;
}

/**
 * Opens or continues the conversations of a batch of outbound messages, as CTEs (`touch_batch`,
 * `touch_open`, `touch_continued`, `touch_opened`) to run in the statement that inserts them: only
 * the messages whose id is in `inserted` (a relation with `id`) count, the last of them per pair
 * wins, and the open session of each pair is continued, a new one opened for the others. In the
 * insert's own statement, not a second one: no transaction needed to keep the two together.
 */
export function outboundTouches(touches: readonly OutboundTouch[], inserted: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    touch_batch AS (
      SELECT DISTINCT ON (v.customer, v.our_number) v.customer, v.our_number, v.ttl, v.tags, v.message_id
      FROM unnest(${batchArray(touches.map((t) => t.customer), 'text[]')}, ${touches.map((t) => t.ourNumber)}::text[],
        ${touches.map((t) => t.ttlSeconds)}::integer[], ${touches.map((t) => JSON.stringify(t.tags))}::text[],
        ${touches.map((t) => t.messageId)}::text[]) WITH ORDINALITY AS v(customer, our_number, ttl, tags, message_id, n)
      WHERE v.message_id IN (SELECT i.id FROM ${inserted} i)
      ORDER BY v.customer, v.our_number, v.n DESC
    ), touch_open AS (${openSessions(sql`touch_batch`, ['ttl', 'tags', 'message_id'])}
    ), touch_continued AS (
      UPDATE conversations AS c SET
        expires_at = greatest(c.expires_at, now() + make_interval(secs => o.ttl)),
        tags = c.tags || o.tags::jsonb,
        last_activity_at = now(),
        last_outbound_at = now(),
        last_outbound_id = o.message_id
      FROM touch_open o
      WHERE c.id = o.id AND c.expires_at > now()
      RETURNING c.customer, c.our_number
    ), touch_continued_pairs AS MATERIALIZED (${pairsOf('touch_continued')}
    ), touch_opened AS (
      INSERT INTO conversations (customer, our_number, tags, expires_at, last_outbound_id, last_outbound_at)
      SELECT b.customer, b.our_number, b.tags::jsonb, now() + make_interval(secs => b.ttl), b.message_id, now()
      FROM touch_batch b, touch_continued_pairs k
      WHERE NOT k.pairs ? ${pairKey('b')}
    )`;
}

export async function updateConversation(db: Db, id: string, change: { tags?: Record<string, unknown>; state?: string }): Promise<void> {
  if (change.tags === undefined && change.state === undefined) return;
  await sql`UPDATE conversations SET
      tags = tags || ${JSON.stringify(change.tags ?? {})}::jsonb,
      state = COALESCE(${change.state ?? null}, state)
    WHERE id = ${id}`.execute(db);
}

/**
 * The sessions a batch of replies joins, as CTEs (`joined`, `opened`) for the statement that reads
 * the batch (store/reply-batch.ts): each pair of `batch` (a relation with customer and our_number,
 * each pair once) continues its open session (extended), or opens a new one where none is open.
 * Both CTEs return id, customer, our_number, state, tags, expires_at, assigned_to.
 */
export function joinedSessions(batch: RawBuilder<unknown>, ttlSeconds: number): RawBuilder<unknown> {
  return sql`open AS (${openSessions(batch)}
    ), joined AS (
      UPDATE conversations AS c SET last_activity_at = now(), last_inbound_at = now(),
        expires_at = greatest(c.expires_at, now() + make_interval(secs => ${ttlSeconds}))
      FROM open o
      WHERE c.id = o.id AND c.expires_at > now()
      RETURNING c.id, c.customer, c.our_number, c.state, c.tags, c.expires_at, c.assigned_to
    ), joined_pairs AS MATERIALIZED (${pairsOf('joined')}
    ), opened AS (
      INSERT INTO conversations (customer, our_number, expires_at, last_inbound_at)
      SELECT b.customer, b.our_number, now() + make_interval(secs => ${ttlSeconds}), now()
      FROM ${batch} b, joined_pairs j
      WHERE NOT j.pairs ? ${pairKey('b')}
      RETURNING id, customer, our_number, state, tags, expires_at, assigned_to
    )`;
}

/**
 * For each reply of a batch, the message it answers: the latest from our number to the customer
 * before the reply, leaving out Parley's own answers to earlier replies and messages refused before
 * they were sent: a relation (key, id, replies, metadata, survey), `key` the caller's.
 */
export function answeredMessages(items: readonly { key: string; customer: string; ourNumber: string; before: Date }[]): RawBuilder<unknown> {
  return sql`SELECT v.key, m.id, m.replies, m.metadata, m.survey
    FROM unnest(${batchArray(items.map((i) => i.key), 'text[]')}, ${items.map((i) => i.customer)}::text[],
      ${items.map((i) => i.ourNumber)}::text[], ${items.map((i) => i.before)}::timestamptz[]) AS v(key, customer, our_number, before)
    CROSS JOIN LATERAL (
      SELECT id, replies, metadata, survey FROM messages
      WHERE to_addr = v.customer AND from_addr = v.our_number AND created_at <= v.before
        AND reply_to IS NULL AND (status <> 'failed' OR submitted_at IS NOT NULL)
      ORDER BY created_at DESC
      LIMIT 1
    ) AS m`;
}
