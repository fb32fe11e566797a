import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Indexes for the retention sweeper (rows past their table's retention, oldest first), for
 * expiring queued messages past their maximum queue age, and for the oldest queued message's age. Built CONCURRENTLY, so writes go on
 * while they build; hence outside a transaction, one statement at a time.
 */
export const transactional = false;

const INDEXES: readonly [name: string, definition: string][] = [
  ['messages_expiring', `messages (expires_at) WHERE status = 'queued' AND expires_at IS NOT NULL`],
  // The oldest queued message, read at every scrape (parley_queue_oldest_message_age_seconds).
  ['messages_queued_age', `messages (created_at) WHERE status = 'queued'`],
  ['messages_final_at', `messages (final_at) WHERE final_at IS NOT NULL`],
  ['receipts_received_at', `receipts (received_at)`],
  ['replies_received_at', `replies (received_at)`],
  ['inbound_parts_received_at', `inbound_parts (received_at)`],
  ['conversations_expires_at', `conversations (expires_at)`],
  ['webhook_deliveries_finished_at', `webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL`],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, definition] of INDEXES) await createIndexConcurrently(db, name, definition);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await dropIndexConcurrently(db, name);
}
