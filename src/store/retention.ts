/**
 * Retention: deleting what is past its table's retention, and erasing one customer's data.
 *
 * Every delete is one statement over at most `batchSize` rows picked with FOR UPDATE SKIP LOCKED:
 * it locks only those rows, for only that statement, and never waits for (or blocks) a row the
 * traffic holds. Each batch picks its rows through an index on the age column (migration 0009),
 * oldest first, so a batch costs the same however big the table is.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.ts';
import { customerHash } from './opt-outs.ts';

export type RetainedTable = 'messages' | 'receipts' | 'replies' | 'inbound_parts' | 'conversations' | 'webhook_deliveries';

/**
 * Each table but messages: the column its age is read from (the index of migration 0009), and the
 * rows that are still work rather than history, which are never deleted.
 */
const AGED: Readonly<Record<Exclude<RetainedTable, 'messages'>, { column: string; history: string }>> = {
  receipts: { column: 'received_at', history: 'true' },
  // A reply still being handled (received, leased) is work.
  replies: { column: 'received_at', history: "status <> 'received'" },
  // Parts of a reply not assembled yet wait for their siblings.
  inbound_parts: { column: 'received_at', history: 'reply_id IS NOT NULL' },
  conversations: { column: 'expires_at', history: 'true' },
  webhook_deliveries: { column: 'finished_at', history: 'finished_at IS NOT NULL' },
};

/**
 * The rows that belong to a message without a foreign key to it (migrations 0015, 0021): they are
 * deleted with it, by whoever deletes it.
 */
const ROWS_OF_A_MESSAGE = ['message_events', 'dispatch_attempts', 'segments', 'submit_attempts'] as const;

/**
 * CTEs deleting the ROWS_OF_A_MESSAGE of the messages whose ids `ids` (a query) yields, one
 * `gone_<table>` each, returning a row per row deleted.
 */
function rowsOfMessagesGone(ids: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql.join(
    ROWS_OF_A_MESSAGE.map((table) => sql`${sql.id(`gone_${table}`)} AS (DELETE FROM ${sql.table(table)} x WHERE x.message_id IN (${ids}) RETURNING 1)`),
  );
}

/**
 * Deletes up to `limit` rows of `table` older than `olderThanMs`; returns how many. Messages are
 * only ever deleted in a final state, with their ROWS_OF_A_MESSAGE.
 */
export async function deleteBatch(db: Db, table: RetainedTable, olderThanMs: number, limit: number): Promise<number> {
  const age = sql`now() - make_interval(secs => ${olderThanMs / 1000})`;
  if (table === 'messages') {
    const res = await sql<{ n: string }>`
        WITH doomed AS (
          SELECT id FROM messages WHERE final_at IS NOT NULL AND final_at < ${age}
          ORDER BY final_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
        gone AS (DELETE FROM messages m USING doomed d WHERE m.id = d.id RETURNING m.id),
        ${rowsOfMessagesGone(sql`SELECT id FROM gone`)}
        SELECT count(*) AS n FROM gone`.execute(db);
    return Number(res.rows[0]?.n ?? 0);
  }
  const { column, history } = AGED[table];
  const t = sql.table(table);
  const c = sql.ref(column);
  const res = await sql<{ n: string }>`
      WITH doomed AS (
        SELECT id FROM ${t} WHERE ${c} < ${age} AND ${sql.raw(history)}
        ORDER BY ${c} LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      gone AS (DELETE FROM ${t} x USING doomed d WHERE x.id = d.id RETURNING 1)
      SELECT count(*) AS n FROM gone`.execute(db);
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
      sql<{ n: string }>`WITH ${rowsOfMessagesGone(sql`SELECT unnest(${messageIds}::text[])`)}
        SELECT count(*) AS n FROM gone_message_events`.execute(tx),
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
