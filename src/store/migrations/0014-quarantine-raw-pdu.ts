import { sql, type Kysely } from 'kysely';

/**
 * - `quarantined_pdus.raw_pdu`: the deliver_sm's octets as the SMSC sent them (header and TLVs
 *   included), beside the decoded fields 0006 keeps: what the carrier sent, whole, for the record
 *   and for replaying it once the cause is fixed. Null for rows quarantined before this column.
 * - An index for the webhook outbox's per-webhook claim (due deliveries of one webhook, oldest
 *   first), so a slow webhook's backlog is not scanned when claiming for another.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE quarantined_pdus ADD COLUMN raw_pdu bytea`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_due_per_webhook ON webhook_deliveries (webhook, next_attempt_at) WHERE status = 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS webhook_deliveries_due_per_webhook`.execute(db);
  await sql`ALTER TABLE quarantined_pdus DROP COLUMN IF EXISTS raw_pdu`.execute(db);
}
