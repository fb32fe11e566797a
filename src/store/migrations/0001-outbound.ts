import { sql, type Kysely } from 'kysely';

/**
 * The outbound record: messages, the segments the SMSC accepted (with its id per segment), and
 * every status change. Receipts and conversations come in later migrations and key on these.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE daemons (
      name text PRIMARY KEY,
      host text NOT NULL,
      pid integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE messages (
      id text PRIMARY KEY,
      to_addr text NOT NULL,
      from_addr text,
      body text NOT NULL,
      route text NOT NULL,
      priority smallint NOT NULL DEFAULT 0,
      dlr boolean NOT NULL DEFAULT true,
      validity_seconds integer,
      conversation jsonb,
      replies jsonb,
      metadata jsonb,
      status text NOT NULL,
      smsc text,
      segments smallint,
      error_code text,
      error_reason text,
      owner text,
      attempts integer NOT NULL DEFAULT 0,
      possible_duplicate boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      submitted_at timestamptz,
      final_at timestamptz
    )`.execute(db);
  // Only unfinished work is looked up by status; a partial index stays small however many
  // messages the table holds.
  await sql`CREATE INDEX messages_queued ON messages (owner, priority DESC, created_at) WHERE status = 'queued'`.execute(db);
  await sql`CREATE INDEX messages_to_addr ON messages (to_addr, created_at)`.execute(db);
  await sql`
    CREATE TABLE segments (
      message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      seq smallint NOT NULL,
      total smallint NOT NULL,
      smsc text NOT NULL,
      bind text,
      smsc_message_id text,
      command_status integer,
      status text NOT NULL,
      attempts smallint NOT NULL DEFAULT 1,
      possible_duplicate boolean NOT NULL DEFAULT false,
      submitted_at timestamptz NOT NULL,
      responded_at timestamptz,
      PRIMARY KEY (message_id, seq)
    )`.execute(db);
  await sql`CREATE INDEX segments_smsc_message_id ON segments (smsc, smsc_message_id)`.execute(db);
  await sql`
    CREATE TABLE message_events (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL,
      status text NOT NULL,
      previous text,
      at timestamptz NOT NULL DEFAULT now(),
      detail jsonb
    )`.execute(db);
  await sql`CREATE INDEX message_events_message ON message_events (message_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['message_events', 'segments', 'messages', 'daemons']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
