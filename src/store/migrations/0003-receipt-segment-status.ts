import { sql, type Kysely } from 'kysely';

/** The segment status a final receipt sets, decided when the receipt is parsed, kept with it. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE receipts ADD COLUMN segment_status text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE receipts DROP COLUMN segment_status`.execute(db);
}
