/**
 * Retention: deleting what is past its table's retention, and erasing one customer's data.
 *
 * Every delete is one statement over at most `batchSize` rows picked with FOR UPDATE SKIP LOCKED:
 * it locks only those rows, for only that statement, and never waits for (or blocks) a row the
 * traffic holds. Each batch picks its rows through an index on the age column (migration 0009),
 * oldest first, so a batch costs the same however big the table is.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { customerHash } from './opt-outs.ts';

export type RetainedTable = 'messages' | 'receipts' | 'replies' | 'inbound_parts' | 'conversations' | 'webhook_deliveries';

/**
 * Deletes up to `limit` rows of `table` older than `olderThanMs`; returns how many. Messages are
 * only ever deleted in a final state (their segments go by cascade, their status history here).
 */
export async function deleteBatch(db: Db, table: RetainedTable, olderThanMs: number, limit: number): Promise<number> {
  const age = sql`now() - make_interval(secs => ${olderThanMs / 1000})`;
  let res: { rows: { n: string }[] };
  switch (table) {
    case 'messages':
      res = await sql<{ n: string }>`
        WITH doomed AS (
          SELECT id FROM messages WHERE final_at IS NOT NULL AND final_at < ${age}
          ORDER BY final_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM messages m USING doomed d WHERE m.id = d.id RETURNING m.id),
        history AS (DELETE FROM message_events e WHERE e.message_id IN (SELECT id FROM gone))
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
    case 'receipts':
      res = await sql<{ n: string }>`
        WITH doomed AS (SELECT id FROM receipts WHERE received_at < ${age} ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM receipts r USING doomed d WHERE r.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
    case 'replies':
      // Only handled replies: one still being handled (received, leased) is work, not history.
      res = await sql<{ n: string }>`
        WITH doomed AS (
          SELECT id FROM replies WHERE received_at < ${age} AND status <> 'received'
          ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM replies r USING doomed d WHERE r.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
    case 'inbound_parts':
      // Parts of replies already assembled (reply_id set); open ones wait for their siblings.
      res = await sql<{ n: string }>`
        WITH doomed AS (
          SELECT id FROM inbound_parts WHERE received_at < ${age} AND reply_id IS NOT NULL
          ORDER BY received_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM inbound_parts p USING doomed d WHERE p.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
    case 'conversations':
      res = await sql<{ n: string }>`
        WITH doomed AS (SELECT id FROM conversations WHERE expires_at < ${age} ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM conversations c USING doomed d WHERE c.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
    case 'webhook_deliveries':
      res = await sql<{ n: string }>`
        WITH doomed AS (
          SELECT id FROM webhook_deliveries WHERE finished_at IS NOT NULL AND finished_at < ${age}
          ORDER BY finished_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM webhook_deliveries w USING doomed d WHERE w.id = d.id RETURNING 1)
        SELECT count(*) AS n FROM gone`.execute(db);
      break;
  }
  return Number(res.rows[0]?.n ?? 0);
}

/** What `purgeCustomer` removed, per table. */
export type PurgeCounts = Readonly<Record<string, number>>;

/**
 * Erases one customer's data in one transaction: messages to them (with their parts, history and
 * receipts), their replies and the parts of them, conversations, webhook deliveries carrying
 * either, and their opt-outs, which are kept as hashes so they still apply. Messages still queued
 * are erased too (they will not be sent).
 */
export async function purgeCustomer(db: Db, customer: string): Promise<{ counts: PurgeCounts; messageIds: string[]; replyIds: string[] }> {
  return db.transaction().execute(async (tx) => {
    const messageIds = (await sql<{ id: string }>`SELECT id FROM messages WHERE to_addr = ${customer}`.execute(tx)).rows.map((r) => r.id);
    const replyIds = (await sql<{ id: string }>`SELECT id FROM replies WHERE from_addr = ${customer}`.execute(tx)).rows.map((r) => r.id);
    const count = async (q: Promise<{ rows: { n: string }[] }>): Promise<number> => Number((await q).rows[0]?.n ?? 0);
    const counts: Record<string, number> = {};
    counts.webhook_deliveries = await count(
      sql<{ n: string }>`WITH gone AS (
        DELETE FROM webhook_deliveries
        WHERE body->>'id' = ANY (${[...messageIds, ...replyIds]}::text[]) OR body->>'from' = ${customer} OR body->>'to' = ${customer}
        RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.receipts = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM receipts WHERE message_id = ANY (${messageIds}::text[]) RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.message_events = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM message_events WHERE message_id = ANY (${messageIds}::text[]) RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.messages = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM messages WHERE id = ANY (${messageIds}::text[]) RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.inbound_parts = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM inbound_parts WHERE from_addr = ${customer} RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.replies = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM replies WHERE from_addr = ${customer} RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    counts.conversations = await count(
      sql<{ n: string }>`WITH gone AS (DELETE FROM conversations WHERE customer = ${customer} RETURNING 1) SELECT count(*) AS n FROM gone`.execute(tx),
    );
    // Answers to this customer's replies that went to someone else cannot exist; links from
    // other rows to erased ones (in_reply_to, answer_message_id) are cleared.
    await sql`UPDATE replies SET in_reply_to = NULL WHERE in_reply_to = ANY (${messageIds}::text[])`.execute(tx);
    await sql`UPDATE conversations SET last_outbound_id = NULL WHERE last_outbound_id = ANY (${messageIds}::text[])`.execute(tx);
    const optedOut = await sql<{ scope: string }>`DELETE FROM opt_outs WHERE customer = ${customer} RETURNING scope, opted_out`.execute(tx);
    const kept = (optedOut.rows as { scope: string; opted_out: boolean }[]).filter((r) => r.opted_out);
    for (const r of kept) {
      await sql`INSERT INTO opt_out_hashes (customer_hash, scope) VALUES (${customerHash(customer)}, ${r.scope}) ON CONFLICT DO NOTHING`.execute(tx);
    }
    counts.opt_outs_hashed = kept.length;
    return { counts, messageIds, replyIds };
  });
}
