import { sql, type Kysely } from 'kysely';

/**
 * Room on each `segments` page for the row's next version: a segment is written once by its
 * submit's answer and updated once by its final receipt, and none of the columns that receipt sets
 * is indexed, so with free space on the page the update is HOT (no index entry written, the old
 * version pruned in place). Packed pages (fillfactor 100) made every receipt's update move the
 * row to another page and insert into each of the table's three indexes. Applies to pages
 * written from now on; the lock taken (SHARE UPDATE EXCLUSIVE) lets writes go on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE segments SET (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE segments RESET (fillfactor)`.execute(db);
}
