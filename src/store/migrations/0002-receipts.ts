import { sql, type Kysely } from 'kysely';

/**
 * Delivery receipts: every receipt kept as it came (matched or not), the key each segment's carrier
 * id is matched by, the receipt state per segment, and an outbox of webhook deliveries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE segments
    ADD COLUMN match_key text,
    ADD COLUMN receipt_state text,
    ADD COLUMN error_code text,
    ADD COLUMN network_error text,
    ADD COLUMN final_at timestamptz`.execute(db);
  await sql`UPDATE segments SET match_key = lower(smsc_message_id) WHERE smsc_message_id IS NOT NULL`.execute(db);
  await sql`DROP INDEX IF EXISTS segments_smsc_message_id`.execute(db);
  await sql`CREATE INDEX segments_match ON segments (smsc, match_key)`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN delivered_segments smallint NOT NULL DEFAULT 0`.execute(db);
  // Submitted messages still waiting for receipts, for the expiry sweep.
  await sql`CREATE INDEX messages_submitted ON messages (submitted_at) WHERE status = 'submitted'`.execute(db);
  await sql`
    CREATE TABLE receipts (
      id bigserial PRIMARY KEY,
      fingerprint text NOT NULL,
      smsc text NOT NULL,
      bind text,
      smsc_message_id text NOT NULL,
      match_keys text[] NOT NULL,
      state text NOT NULL,
      final boolean NOT NULL,
      error_code text,
      network_error text,
      submit_date timestamptz,
      done_date timestamptz,
      body text NOT NULL,
      tlvs jsonb,
      received_at timestamptz NOT NULL DEFAULT now(),
      message_id text,
      seq smallint,
      matched_at timestamptz
    )`.execute(db);
  // A receipt the SMSC sends again (its deliver_sm was not answered) is the same receipt.
  await sql`CREATE UNIQUE INDEX receipts_fingerprint ON receipts (fingerprint)`.execute(db);
  // Only unmatched receipts are searched by key; the partial GIN index stays small.
  await sql`CREATE INDEX receipts_pending ON receipts USING gin (match_keys) WHERE message_id IS NULL`.execute(db);
  await sql`CREATE INDEX receipts_pending_age ON receipts (received_at) WHERE message_id IS NULL`.execute(db);
  await sql`CREATE INDEX receipts_message ON receipts (message_id, id)`.execute(db);
  await sql`
    CREATE TABLE webhook_deliveries (
      id bigserial PRIMARY KEY,
      webhook text NOT NULL,
      event_type text NOT NULL,
      body jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      last_status integer,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS webhook_deliveries`.execute(db);
  await sql`DROP TABLE IF EXISTS receipts`.execute(db);
  await sql`DROP INDEX IF EXISTS messages_submitted`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS delivered_segments`.execute(db);
  await sql`DROP INDEX IF EXISTS segments_match`.execute(db);
  await sql`CREATE INDEX segments_smsc_message_id ON segments (smsc, smsc_message_id)`.execute(db);
  await sql`ALTER TABLE segments
    DROP COLUMN match_key, DROP COLUMN receipt_state, DROP COLUMN error_code,
    DROP COLUMN network_error, DROP COLUMN final_at`.execute(db);
}
