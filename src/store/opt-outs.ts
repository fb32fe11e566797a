/**
 * Opt-outs: per customer and scope, where scope is one of our numbers or '*' for all of them.
 * Sending to an opted-out customer fails at intake, in the same transaction as the insert.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { sha256 } from '../lib/sha256.ts';
import { batchArray } from './batch-array.ts';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import { customerPairKey } from '../domain/conversation.ts';

type Tx = Transaction<Database> | Db;

export const GLOBAL_SCOPE = '*';

/**
 * The opt-out key kept for a customer whose data was erased (`parley purge`): SHA-256 of the
 * number as Parley stores it. Pseudonymous, not anonymous (phone numbers are few enough to hash
 * them all); it exists so that an erased customer who opted out stays opted out.
 */
export function customerHash(customer: string): string {
  return sha256(`parley-opt-out:${customer}`, 'hex');
}

/**
 * The pairs of a batch that must not be sent to, as a relation (customer, our_number) for a CTE or
 * a sub-select: opted out of that number, or of every number ('*') unless they opted in to that
 * number since (START to a number-scope number after a STOP to a global-scope one resubscribes
 * them to that number, as its confirmation says). An erased customer's opt-outs are kept as
 * hashes (opt_out_hashes), which a row of opt_outs for the same scope overrides (a later START or
 * STOP).
 *
 * The rule is written here once, in SQL, so that a statement that needs it (the insert of new
 * messages, a batch of replies' reads) applies it without a round trip of its own.
 */
export function blockedAmong(batch: readonly { customer: string; ourNumber: string }[]): RawBuilder<unknown> {
  // Each pair once: a batch often holds several messages to one customer from one number.
  const pairs = [...new Map(batch.map((x) => [customerPairKey(x.customer, x.ourNumber), x])).values()];
  // A pair's state for a scope: its row of opt_outs where there is one, else its erased
  // customer's hash row (an opt-out). Four lookups by primary key, each at most one row.
  const state = (row: string, hashRow: string) => {
    const [r, h] = [sql.raw(row), sql.raw(hashRow)];
    return sql`CASE WHEN ${r}.customer IS NOT NULL THEN ${r}.opted_out WHEN ${h}.scope IS NOT NULL THEN true END`;
  };
  return sql`SELECT s.customer, s.our_number FROM (
      SELECT p.customer, p.our_number,
        ${state('own', 'own_hash')} AS own_out, COALESCE(own.changed_at, own_hash.changed_at) AS own_at,
        ${state('every', 'every_hash')} AS every_out, COALESCE(every.changed_at, every_hash.changed_at) AS every_at
      FROM unnest(${batchArray(pairs.map((x) => x.customer), 'text[]')}, ${pairs.map((x) => x.ourNumber)}::text[],
        ${pairs.map((x) => customerHash(x.customer))}::text[]) AS p(customer, our_number, hash)
      LEFT JOIN opt_outs own ON own.customer = p.customer AND own.scope = p.our_number
      LEFT JOIN opt_out_hashes own_hash ON own_hash.customer_hash = p.hash AND own_hash.scope = p.our_number
      LEFT JOIN opt_outs every ON every.customer = p.customer AND every.scope = ${GLOBAL_SCOPE}
      LEFT JOIN opt_out_hashes every_hash ON every_hash.customer_hash = p.hash AND every_hash.scope = ${GLOBAL_SCOPE}
    ) s
    WHERE s.own_out IS TRUE OR (s.every_out IS TRUE AND NOT COALESCE(s.own_out IS FALSE AND s.own_at >= s.every_at, false))`;
}

/** Keys `customer\0ourNumber` of blocked pairs, as the blockedAmong relation's rows give them. */
export const blockedKeys = (rows: readonly { customer: string; our_number: string }[]): Set<string> =>
  new Set(rows.map((r) => customerPairKey(r.customer, r.our_number)));

/** The (customer, our number) pairs of a batch that must not be sent to (blockedAmong), keyed `customer\0ourNumber`. */
export async function blockedPairs(tx: Tx, pairs: readonly { customer: string; ourNumber: string }[]): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  return blockedKeys((await sql<{ customer: string; our_number: string }>`${blockedAmong(pairs)}`.execute(tx)).rows);
}

/**
 * Records an opt-out or opt-in. Returns true when it changed the customer's state: a second STOP
 * from an opted-out customer changes nothing (and gets no second confirmation). An opt-in to a
 * number the customer is opted in to already changes their state when a later opt-out of every
 * number ('*') blocks it.
 */
export async function setOptOut(
  db: Db,
  change: { customer: string; scope: string; optedOut: boolean; keyword: string; replyId: string },
): Promise<boolean> {
  const res = await sql<{ changed: boolean }>`
    INSERT INTO opt_outs (customer, scope, opted_out, keyword, reply_id)
    VALUES (${change.customer}, ${change.scope}, ${change.optedOut}, ${change.keyword}, ${change.replyId})
    ON CONFLICT (customer, scope) DO UPDATE SET
      opted_out = excluded.opted_out, keyword = excluded.keyword, reply_id = excluded.reply_id, changed_at = now()
    WHERE opt_outs.opted_out IS DISTINCT FROM excluded.opted_out OR opt_outs.reply_id = excluded.reply_id
      OR (NOT excluded.opted_out AND excluded.scope <> ${GLOBAL_SCOPE} AND EXISTS (
        SELECT 1 FROM opt_outs g
        WHERE g.customer = excluded.customer AND g.scope = ${GLOBAL_SCOPE} AND g.opted_out AND g.changed_at > opt_outs.changed_at))
    RETURNING true AS changed`.execute(db);
  return res.rows.length > 0;
}
