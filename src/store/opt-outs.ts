/**
 * Opt-outs: per customer and scope, where scope is one of our numbers or '*' for all of them.
 * Sending to an opted-out customer fails at intake, in the same transaction as the insert.
 */
import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { batchArray } from './batch-array.ts';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';

type Tx = Transaction<Database> | Db;

export const GLOBAL_SCOPE = '*';

/**
 * The opt-out key kept for a customer whose data was erased (`parley purge`): SHA-256 of the
 * number as Parley stores it. Pseudonymous, not anonymous (phone numbers are few enough to hash
 * them all); it exists so that an erased customer who opted out stays opted out.
 */
export function customerHash(customer: string): string {
  return createHash('sha256').update(`parley-opt-out:${customer}`).digest('hex');
}

/**
 * The (customer, our number) pairs of a batch that must not be sent to: opted out of that number,
 * or of every number ('*') unless they opted in to that number since (START to a number-scope
 * number after a STOP to a global-scope one resubscribes them to that number, as its
 * confirmation says).
 */
export async function blockedPairs(tx: Tx, pairs: readonly { customer: string; ourNumber: string }[]): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const customers = [...new Set(pairs.map((p) => p.customer))];
  // Opt-outs of erased customers are kept as hashes (opt_out_hashes): read in the same round trip,
  // and overridden by a row of opt_outs for the same scope (a later START or STOP).
  const rows = await sql<{ customer: string; scope: string; opted_out: boolean; changed_at: Date; hashed: boolean }>`
    SELECT h.customer, o.scope, true AS opted_out, o.changed_at, true AS hashed
    FROM opt_out_hashes o JOIN unnest(${batchArray(customers, 'text[]')}, ${customers.map(customerHash)}::text[]) AS h(customer, hash) ON o.customer_hash = h.hash
    UNION ALL
    SELECT customer, scope, opted_out, changed_at, false AS hashed FROM opt_outs WHERE customer = ANY (${batchArray(customers, 'text[]')})`.execute(tx);
  if (rows.rows.length === 0) return new Set();
  const byKey = new Map<string, (typeof rows.rows)[number]>();
  for (const r of [...rows.rows].sort((a, b) => Number(b.hashed) - Number(a.hashed))) byKey.set(`${r.customer}\0${r.scope}`, r);
  const blocked = new Set<string>();
  for (const p of pairs) {
    const own = byKey.get(`${p.customer}\0${p.ourNumber}`);
    const global = byKey.get(`${p.customer}\0${GLOBAL_SCOPE}`);
    const optedInSince = own !== undefined && !own.opted_out && global !== undefined && own.changed_at >= global.changed_at;
    if (own?.opted_out === true || (global?.opted_out === true && !optedInSince)) blocked.add(`${p.customer}\0${p.ourNumber}`);
  }
  return blocked;
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
