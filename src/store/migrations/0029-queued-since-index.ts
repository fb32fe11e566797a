import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Queued messages by when they could first be sent: their `send_at` when held (scheduled, or
 * waiting out quiet hours), else when they were accepted. The age of the oldest queued message
 * (parley_queue_oldest_message_age_seconds, behind the ParleyQueuedMessageTooOld alert) is read
 * from it at every scrape. Read by `created_at` (messages_queued_age, 0009), a message scheduled
 * for tomorrow counted as waiting since it was accepted, and the alert fired for a queue that was
 * fine until the message went. It replaces that index, which served nothing else hot: the
 * operator's `parley queue list` now sorts the queued messages it lists.
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_queued_since', `messages ((COALESCE(send_at, created_at))) WHERE status = 'queued'`);
  await dropIndexConcurrently(db, 'messages_queued_age');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_queued_age', `messages (created_at) WHERE status = 'queued'`);
  await dropIndexConcurrently(db, 'messages_queued_since');
}
