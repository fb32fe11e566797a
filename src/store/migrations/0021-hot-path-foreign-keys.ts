import { sql, type Kysely } from 'kysely';

/**
 * No foreign key from `segments` or `submit_attempts` to `messages`. Each insert of a segment or a
 * submit attempt ran the key's check, a query of its own inside Postgres that takes a key-share
 * lock on the message row; a lock on a row is a write to its page, with its WAL record. A message
 * paid that twice on the submit path (measured: 3.9 lock records per message on `messages`, 210
 * WAL bytes), and `dispatch_attempts` had dropped its key for the same reason (0015). Nothing is
 * inserted for a message that was never stored: the rows are written from the answers to submits
 * of stored messages. Retention and erasure delete both with their message (store/retention.ts),
 * as they did `dispatch_attempts` and `message_events` already; the cascade did it before.
 *
 * Dropping a key is a catalog change, under a brief lock of each table. `down` deletes the rows
 * whose message is gone (only erasure racing a submit leaves any), then adds the keys back.
 */
const TABLES = ['segments', 'submit_attempts'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    const keys = await sql<{ name: string }>`
      SELECT conname AS name FROM pg_constraint
      WHERE conrelid = to_regclass(${table}) AND contype = 'f' AND confrelid = to_regclass('messages')`.execute(db);
    for (const { name } of keys.rows) await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT ${sql.ref(name)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    const t = sql.table(table);
    await sql`DELETE FROM ${t} x WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = x.message_id)`.execute(db);
    await sql`ALTER TABLE ${t} ADD CONSTRAINT ${sql.ref(`${table}_message_id_fkey`)}
      FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE`.execute(db);
  }
}
