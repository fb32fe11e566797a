import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Pending receipts are looked up by carrier id through a GIN index that no other index can stand
 * in for. Every submit batch looks up, for each of its segments, the receipts that came before
 * its answer (matchPendingLocking). With receipts_pending (GIN, `WHERE message_id IS NULL`) the
 * lookup had to say `message_id IS NULL`, and so did receipts_pending_source and
 * receipts_pending_age (btree, same predicate): planned on statistics that showed a pending
 * receipt or two, the planner read all pending receipts of the SMSC through those for each
 * segment. Measured in `npx tsx test/bench/outbound.ts --no-two-way --binds 1` (auto_explain):
 * 500 segments x 100 pending receipts, 4,000 buffers and 23 ms of a 80 ms statement; with the
 * receipts that never match (kept pending for good) in their thousands, per segment.
 *
 * This index holds the receipts that have keys to be matched by (`cardinality(match_keys) > 0`:
 * a receipt matched as it is stored keeps none, and one matched later has its keys cleared), and
 * the lookup names that predicate and tests `message_id` in a way no partial index answers
 * (stillPending), so this is the only index it can use. Receipts matched before this migration
 * keep their keys and stay in it, filtered out by that test. Built concurrently (see 0025).
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'receipts_pending_keys', `receipts USING gin (match_keys) WITH (fastupdate = off) WHERE cardinality(match_keys) > 0`);
  await dropIndexConcurrently(db, 'receipts_pending');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'receipts_pending', `receipts USING gin (match_keys) WITH (fastupdate = off) WHERE message_id IS NULL`);
  await dropIndexConcurrently(db, 'receipts_pending_keys');
}
