import { sql, type Kysely } from 'kysely';

/** When the first answer to a reply was accepted by the SMSC (its submit_sm_resp), for response times. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE replies ADD COLUMN answer_submitted_at timestamptz`.execute(db);
  await sql`CREATE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS messages_reply_to`.execute(db);
  await sql`ALTER TABLE replies DROP COLUMN IF EXISTS answer_submitted_at`.execute(db);
}
