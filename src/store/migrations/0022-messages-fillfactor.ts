import { sql, type Kysely } from 'kysely';

/**
 * Room on each `messages` page for its rows' later versions, as `segments` has (0016). A message
 * row is written three times: inserted queued, then submitted, then final. Its status is in the
 * partial indexes' predicates, so no update of it is HOT; but an update whose new version fits on
 * the row's own page is logged as one block, and one that does not first logs a lock of the old
 * version (Postgres marks it locked while it looks for another page), then the update across two
 * pages. On packed pages every status update did the latter. Measured over 30,000 messages with
 * receipts (`npm run bench`, pg_walinspect): the updates' WAL 514 -> 269 bytes a message, lock
 * records 156 -> 56 bytes, all WAL 5,374 -> 5,039 bytes. The price is a table about twice the size
 * on disk: pages keep the room after their rows are final (prune frees dead versions for new ones).
 * Applies to pages written from now on; the lock taken (SHARE UPDATE EXCLUSIVE) lets writes go on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages SET (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages RESET (fillfactor)`.execute(db);
}
