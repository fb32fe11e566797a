import { sql, type Kysely } from 'kysely';

/**
 * `dispatch_attempts`: one row per dispatch attempt counted before a message's first submit_sm
 * leaves (the attempt ledger), appended instead of updating the message row. The wide `messages`
 * row was rewritten for every batch the dispatcher took up (body and every index included); an
 * attempt is now a narrow insert. A message's attempts are `messages.attempts` (those counted
 * before this migration) plus its rows here.
 *
 * No foreign key: the insert would lock the message row (key share) on the hot path. Rows go with
 * their message in retention and erasure (store/retention.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE dispatch_attempts (
      message_id text NOT NULL,
      counted_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX dispatch_attempts_message ON dispatch_attempts (message_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The attempts counted meanwhile go back on their messages.
  await sql`
    UPDATE messages m SET attempts = m.attempts + a.n
    FROM (SELECT message_id, count(*)::int AS n FROM dispatch_attempts GROUP BY message_id) a
    WHERE m.id = a.message_id`.execute(db);
  await sql`DROP TABLE IF EXISTS dispatch_attempts`.execute(db);
}
