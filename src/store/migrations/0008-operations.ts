import { sql, type Kysely } from 'kysely';

/**
 * Operations: a maximum queue age per message, runtime pauses, and hashed opt-outs for erased
 * customers. Only metadata changes: a nullable column without a default is added without
 * rewriting the table, and lock_timeout keeps the brief ACCESS EXCLUSIVE lock from queueing
 * behind a long transaction (and every write behind it): the migration fails instead, and is
 * run again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`SET LOCAL lock_timeout = '2s'`.execute(db);
  // When a message still queued stops being worth sending (from the payload's expires_at or the
  // route's max_queue_age): it then becomes expired without a submit_sm.
  await sql`ALTER TABLE messages ADD COLUMN expires_at timestamptz`.execute(db);
  // Routes and SMSCs paused at run time (`parley route|smsc pause`), read by every daemon.
  await sql`
    CREATE TABLE paused (
      kind text NOT NULL CHECK (kind IN ('route', 'smsc')),
      name text NOT NULL,
      paused_at timestamptz NOT NULL DEFAULT now(),
      reason text,
      PRIMARY KEY (kind, name)
    )`.execute(db);
  // Opt-outs of customers whose data was erased (`parley purge`): the number is kept only as a
  // hash, so a later message to it is still refused.
  await sql`
    CREATE TABLE opt_out_hashes (
      customer_hash text NOT NULL,
      scope text NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (customer_hash, scope)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS opt_out_hashes`.execute(db);
  await sql`DROP TABLE IF EXISTS paused`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS expires_at`.execute(db);
}
