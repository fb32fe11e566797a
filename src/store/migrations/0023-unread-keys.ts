import { sql, type Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Two more indexes every message paid for and no query needs (as 0018), about 145 bytes of WAL a
 * message with receipts between them:
 * - `submit_attempts_pkey`: nothing reads an attempt by its id. Attempts are read by segment
 *   (`submit_attempts_segment`) and by carrier id (`submit_attempts_match`), and deleted by
 *   message. The id column stays. Like `dispatch_attempts` (0015), the table has no primary key.
 * - `conversations_customer` (customer, last_activity_at): the inbox's filter by customer is served
 *   by `conversations_pair` (customer, our_number, opened_at), whose leading column is the same; a
 *   customer has a handful of sessions to sort. Every outbound message that opens a session wrote
 *   an entry here.
 * The index is dropped CONCURRENTLY; the key's constraint is dropped in one catalog change (a
 * brief ACCESS EXCLUSIVE lock on submit_attempts). `down` builds both again without blocking
 * writers (the key from a unique index built concurrently, as 0019 does).
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE submit_attempts DROP CONSTRAINT IF EXISTS submit_attempts_pkey`.execute(db);
  await dropIndexConcurrently(db, 'conversations_customer');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'conversations_customer', 'conversations (customer, last_activity_at DESC)');
  const key = await sql`SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('submit_attempts') AND contype = 'p'`.execute(db);
  if (key.rows.length > 0) return;
  await createIndexConcurrently(db, 'submit_attempts_pkey', 'submit_attempts (id)', { unique: true });
  await sql`ALTER TABLE submit_attempts ADD CONSTRAINT submit_attempts_pkey PRIMARY KEY USING INDEX submit_attempts_pkey`.execute(db);
}
