import { sql, type Kysely } from 'kysely';

/**
 * Poison never jams a pipeline:
 * - `quarantined_pdus`: a deliver_sm (receipt or customer message) that could not be stored, kept
 *   whole (addresses, esm_class, data_coding, octets, TLVs) with the reason, so the SMSC can be
 *   answered and stop resending it, and nothing the carrier sent is lost;
 * - the original octets beside text that had NUL or lone surrogates replaced
 *   (domain/storable-text.ts): an outbound entry's payload, a receipt's body.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE quarantined_pdus (
      id bigserial PRIMARY KEY,
      pipeline text NOT NULL,
      command text NOT NULL,
      smsc text NOT NULL,
      bind text,
      source_addr text NOT NULL,
      destination_addr text NOT NULL,
      esm_class smallint NOT NULL,
      data_coding smallint NOT NULL,
      short_message bytea NOT NULL,
      message_payload bytea,
      tlvs jsonb,
      reason text NOT NULL,
      quarantined_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX quarantined_pdus_at ON quarantined_pdus (quarantined_at)`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN original_payload bytea`.execute(db);
  await sql`ALTER TABLE receipts ADD COLUMN original_body bytea`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE receipts DROP COLUMN IF EXISTS original_body`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS original_payload`.execute(db);
  await sql`DROP TABLE IF EXISTS quarantined_pdus`.execute(db);
}
