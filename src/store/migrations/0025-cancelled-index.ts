import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * The messages an operator cancelled, by when: every daemon reads the last 10 s of them each
 * second (recentlyCancelled, the pauses poll) to drop them from its dispatch queues. Through
 * `messages_final_at` that read visited every message made final in those 10 s and filtered out
 * all but the cancelled few: a cost per poll of rate x 10 rows, per daemon. Measured, `npx tsx
 * test/bench/outbound.ts --no-two-way --binds 1` with pg_stat_statements, 2 runs: 8.3 and 10.8 ms a
 * read at 3,400-4,000 msg/s, about 2% of the daemon's Postgres time, growing with the rate and with
 * each daemon; 0.014 ms through this index. This partial index holds only cancelled messages, so
 * the read is a handful of entries; every other message pays only the predicate check when it
 * becomes final (that update is never HOT anyway: see 0018). The code is the domain's
 * CANCELLED.errorCode; its test checks that the statement uses this index.
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_cancelled', `messages (final_at) WHERE error_code = 'cancelled'`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropIndexConcurrently(db, 'messages_cancelled');
}
