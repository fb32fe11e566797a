import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Indexes every message paid for and no query used. Each is written on every insert of its table
 * and, on `messages`, on each of a message's status updates too (a status update is never HOT:
 * `status` is in partial-index predicates), so each costs every message its index entries and
 * their WAL:
 * - `segments_match`: receipts are matched through `submit_attempts_match` since 0007 (every
 *   carrier id a segment's copies got); nothing reads segments by carrier id.
 * - `messages_to_addr`: every query by customer (`to_addr = …`, the conversation report, erasure,
 *   the copy matcher) is served by `messages_thread` (to_addr, from_addr, created_at), whose
 *   leading column is the same.
 * Dropped CONCURRENTLY (no lock that stops writers); `down` builds them again the same way.
 */
export const transactional = false;

const DROPPED: readonly [name: string, definition: string][] = [
  ['segments_match', 'segments (smsc, match_key)'],
  ['messages_to_addr', 'messages (to_addr, created_at)'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name] of DROPPED) await dropIndexConcurrently(db, name);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name, definition] of [...DROPPED].reverse()) await createIndexConcurrently(db, name, definition);
}
