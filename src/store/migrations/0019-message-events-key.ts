import { sql, type Kysely } from 'kysely';
import { createIndexConcurrently, dropIndexConcurrently } from './concurrently.ts';

/**
 * message_events is keyed by (message_id, id), the index every read of it uses (a message's
 * history in order; following it after an event id), instead of by id alone, which no query read.
 * Three events per message wrote six index entries; now three. id stays unique by its sequence.
 *
 * Built without blocking writers: the new key's unique index concurrently, then the swap of the
 * primary key (a brief ACCESS EXCLUSIVE lock on message_events: both columns are already NOT
 * NULL, so Postgres checks nothing), then the old index dropped concurrently. Each step is skipped
 * when done, so a run that failed half-way can be run again.
 */
export const transactional = false;

/** The columns of message_events' primary key, in order. */
async function primaryKeyColumns(db: Kysely<unknown>): Promise<string[]> {
  const r = await sql<{ columns: string[] }>`
    SELECT array_agg(a.attname::text ORDER BY k.n) AS columns
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    WHERE c.conrelid = to_regclass('message_events') AND c.contype = 'p'`.execute(db);
  return r.rows[0]?.columns ?? [];
}

export async function up(db: Kysely<unknown>): Promise<void> {
  if ((await primaryKeyColumns(db)).join(',') !== 'message_id,id') {
    await createIndexConcurrently(db, 'message_events_key', 'message_events (message_id, id)', { unique: true });
    // The index takes the constraint's name (message_events_pkey).
    await sql`ALTER TABLE message_events DROP CONSTRAINT IF EXISTS message_events_pkey,
      ADD CONSTRAINT message_events_pkey PRIMARY KEY USING INDEX message_events_key`.execute(db);
  }
  await dropIndexConcurrently(db, 'message_events_message');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createIndexConcurrently(db, 'message_events_message', 'message_events (message_id, id)');
  if ((await primaryKeyColumns(db)).join(',') !== 'id') {
    await createIndexConcurrently(db, 'message_events_id_key', 'message_events (id)', { unique: true });
    await sql`ALTER TABLE message_events DROP CONSTRAINT IF EXISTS message_events_pkey,
      ADD CONSTRAINT message_events_pkey PRIMARY KEY USING INDEX message_events_id_key`.execute(db);
  }
}
