import { sql, type Kysely } from 'kysely';

/**
 * receipts_pending (GIN over the match keys of receipts not matched yet) without its fast-update
 * list. With it, a new entry goes to an unsorted list that every lookup reads whole until a vacuum
 * (or 4 MB of entries) merges it: 4 ms per lookup over 50,000 pending receipts, and a submit batch
 * looks up every answer's key. Few receipts enter this index (most are matched as they are
 * stored), so writing them straight into the tree costs little. The list already there is merged.
 * Outside a transaction: ALTER INDEX holds the index's lock for a moment, and the merge runs after
 * under a lighter one. Both can run again.
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER INDEX receipts_pending SET (fastupdate = off)`.execute(db);
  await sql`SELECT gin_clean_pending_list('receipts_pending'::regclass)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER INDEX receipts_pending RESET (fastupdate)`.execute(db);
}
