import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * Held messages (payload send_at, quiet hours) indexed only while nobody has claimed them: what
 * claimDue, the release of due messages, takes. `messages_held` (0013) kept a message until it
 * was sent, so while a daemon worked through a released campaign, every call read the due
 * messages it had already claimed before those it could take. Measured (`claimDue` of 500 at a
 * time until all are taken, 100,000 due): 11.5 ms at the 10th call, 25.8 at the 100th, 44.3 at the
 * 199th, 5.5 s in all; through this index each call reads only what it takes. The index is
 * replaced, not added to: claimDue is the only statement that reads held messages by send_at.
 */
export const transactional = false;

const HELD = `messages (send_at) WHERE status = 'queued' AND send_at IS NOT NULL`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_held_unowned', `${HELD} AND owner IS NULL`);
  await dropIndexConcurrently(db, 'messages_held');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'messages_held', HELD);
  await dropIndexConcurrently(db, 'messages_held_unowned');
}
