import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * 0013's indexes (replies by intent, held messages, campaigns), built CONCURRENTLY so writers go
 * on while they build; hence outside a transaction. A database that applied 0013 when it still
 * built them keeps its valid indexes (createIndexConcurrently leaves a valid one alone).
 */
export const transactional = false;

const INDEXES: readonly [name: string, definition: string][] = [
  ['replies_intent', `replies (intent, received_at) WHERE intent IS NOT NULL`],
  ['messages_held', `messages (send_at) WHERE status = 'queued' AND send_at IS NOT NULL`],
  ['messages_campaign', `messages (campaign, variant) WHERE campaign IS NOT NULL`],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, definition] of INDEXES) await createIndexConcurrently(db, name, definition);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of [...INDEXES].reverse()) await dropIndexConcurrently(db, name);
}
