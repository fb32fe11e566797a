import { sql, type Kysely } from 'kysely';

/**
 * Crash recovery, exact: every submit attempt of a segment is kept with the carrier id it got, so
 * a receipt for any copy of a message sent twice matches (a segment row keeps only the latest).
 * Receipts keep the numbers they name, so that a receipt for a copy whose answer was lost with a
 * crash (its carrier id never heard) can still be tied to the message flagged possible_duplicate.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE submit_attempts (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      seq smallint NOT NULL,
      attempt smallint NOT NULL,
      smsc text NOT NULL,
      bind text,
      smsc_message_id text,
      match_key text,
      command_status integer,
      possible_duplicate boolean NOT NULL DEFAULT false,
      submitted_at timestamptz NOT NULL,
      responded_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX submit_attempts_match ON submit_attempts (smsc, match_key) WHERE match_key IS NOT NULL`.execute(db);
  await sql`CREATE INDEX submit_attempts_segment ON submit_attempts (message_id, seq)`.execute(db);
  await sql`
    INSERT INTO submit_attempts (message_id, seq, attempt, smsc, bind, smsc_message_id, match_key, command_status,
      possible_duplicate, submitted_at, responded_at)
    SELECT message_id, seq, GREATEST(attempts, 1), smsc, bind, smsc_message_id, match_key, command_status,
      possible_duplicate, submitted_at, responded_at
    FROM segments`.execute(db);
  // The flag was only ever written on segments; the message is where apps read it.
  await sql`UPDATE messages AS m SET possible_duplicate = true
    WHERE NOT m.possible_duplicate AND EXISTS (SELECT 1 FROM segments s WHERE s.message_id = m.id AND s.possible_duplicate)`.execute(db);
  await sql`ALTER TABLE receipts ADD COLUMN source_addr text, ADD COLUMN dest_addr text`.execute(db);
  await sql`CREATE INDEX receipts_pending_source ON receipts (smsc, source_addr) WHERE message_id IS NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS receipts_pending_source`.execute(db);
  await sql`ALTER TABLE receipts DROP COLUMN IF EXISTS source_addr, DROP COLUMN IF EXISTS dest_addr`.execute(db);
  await sql`DROP TABLE IF EXISTS submit_attempts`.execute(db);
}
