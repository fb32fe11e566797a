import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * The queued messages nobody owns and that are not held: what every daemon's claim of unfinished
 * work (claimUnfinished, once a second or so) looks for first. Through `messages_queued` that
 * claim read every unowned queued message, held (scheduled) ones included, and filtered them out;
 * and the planner, which takes `status = 'queued'` and `owner IS NULL` as independent (finished
 * messages have no owner either), expected thousands of matches and often read every queued
 * message instead. Measured with 100,000 messages delivered, 100,000 scheduled and 100,000 queued
 * owned by a live daemon (a program calling claimUnfinished, median of 20 calls): 16 ms a call
 * with the scheduled ones alone, 32 ms with the backlog too; through this index, well under a
 * millisecond. The hot path pays nothing but the predicate check: a message is inserted with its
 * owner (or held, with send_at), so this index is empty unless a daemon handed messages back or
 * released its own at start-up.
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_unowned', `messages (priority DESC, created_at) WHERE status = 'queued' AND owner IS NULL AND send_at IS NULL`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropIndexConcurrently(db, 'messages_unowned');
}
