import type { Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * The replies a claim may take (claimReplies: an idle daemon's poll, each second), each kind by an
 * index in the order it is taken in: those nobody holds by age (`replies_unleased`, empty while
 * daemons run: a reply is stored with its lease), those held by lease end (`replies_leased`, whose
 * entries before now() are the leases run out). They replace `replies_pending` (by age), which
 * nothing else read and through which the poll went through every reply live daemons held:
 * 50,000 of them, 7.7 ms a poll. A reply still takes one entry when stored; a claim's new lease
 * is now written to an index too (claims are rare: after a stop, or a lease run out).
 */
export const transactional = false;

export async function up(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'replies_unleased', `replies (received_at) WHERE status = 'received' AND lease_until IS NULL`);
  await createIndexConcurrently(db, 'replies_leased', `replies (lease_until) WHERE status = 'received'`);
  await dropIndexConcurrently(db, 'replies_pending');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'replies_pending', `replies (received_at) WHERE status = 'received'`);
  await dropIndexConcurrently(db, 'replies_leased');
  await dropIndexConcurrently(db, 'replies_unleased');
}
