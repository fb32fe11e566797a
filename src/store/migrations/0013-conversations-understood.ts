import { sql, type Kysely } from 'kysely';

/**
 * What each reply meant (src/inbound/intent/): the intent, how sure the reading was, and what it
 * carried (how it was read, the words that decided it, a menu number, a proposed time, whether it
 * was escalated or flagged for review). Indexed by intent for the reports of common topics.
 *
 * And when a message may go (src/outbound/schedule.ts): `send_at` is set on a message held for its
 * payload's send_at or for quiet hours, `held_reason` says which; the partial index serves the
 * release poll.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE replies ADD COLUMN intent text, ADD COLUMN intent_confidence real, ADD COLUMN intent_detail jsonb`.execute(db);
  await sql`CREATE INDEX replies_intent ON replies (intent, received_at) WHERE intent IS NOT NULL`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN send_at timestamptz, ADD COLUMN held_reason text`.execute(db);
  await sql`CREATE INDEX messages_held ON messages (send_at) WHERE status = 'queued' AND send_at IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS messages_held`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS send_at, DROP COLUMN IF EXISTS held_reason`.execute(db);
  await sql`DROP INDEX IF EXISTS replies_intent`.execute(db);
  await sql`ALTER TABLE replies DROP COLUMN IF EXISTS intent, DROP COLUMN IF EXISTS intent_confidence, DROP COLUMN IF EXISTS intent_detail`.execute(db);
}
