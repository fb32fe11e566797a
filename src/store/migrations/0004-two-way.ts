import { sql, type Kysely } from 'kysely';

/**
 * The two-way path: every part of a customer's message as it came (reassembled from there), the
 * replies themselves (also the queue of replies still to handle), conversations, and opt-outs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE inbound_parts (
      id bigserial PRIMARY KEY,
      fingerprint text NOT NULL,
      smsc text NOT NULL,
      bind text,
      from_addr text NOT NULL,
      to_addr text NOT NULL,
      concat_key text,
      total smallint NOT NULL,
      seq smallint NOT NULL,
      data_coding smallint NOT NULL,
      body bytea NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      reply_id text
    )`.execute(db);
  // The same deliver_sm sent again is recognised by its fingerprint within a window; a customer
  // may well send the same text twice on purpose, so the fingerprint alone is not unique.
  await sql`CREATE INDEX inbound_parts_fingerprint ON inbound_parts (fingerprint, received_at)`.execute(db);
  await sql`CREATE INDEX inbound_parts_open ON inbound_parts (smsc, from_addr, to_addr, concat_key, total) WHERE reply_id IS NULL`.execute(db);
  await sql`CREATE INDEX inbound_parts_age ON inbound_parts (received_at) WHERE reply_id IS NULL`.execute(db);
  await sql`
    CREATE TABLE conversations (
      id bigserial PRIMARY KEY,
      customer text NOT NULL,
      our_number text NOT NULL,
      state text,
      tags jsonb NOT NULL DEFAULT '{}'::jsonb,
      opened_at timestamptz NOT NULL DEFAULT now(),
      last_activity_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      last_outbound_id text
    )`.execute(db);
  await sql`CREATE INDEX conversations_pair ON conversations (customer, our_number, opened_at DESC)`.execute(db);
  await sql`
    CREATE TABLE replies (
      id text PRIMARY KEY,
      smsc text NOT NULL,
      from_addr text NOT NULL,
      to_addr text NOT NULL,
      body text NOT NULL,
      parts smallint NOT NULL,
      incomplete boolean NOT NULL DEFAULT false,
      data_coding smallint NOT NULL,
      decode_problem text,
      received_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'received',
      lease_until timestamptz,
      conversation_id bigint,
      in_reply_to text,
      matched_kind text,
      keyword text,
      rule text,
      actions jsonb,
      resolved_automatically boolean,
      answer_message_id text,
      handled_at timestamptz,
      error text
    )`.execute(db);
  await sql`CREATE INDEX replies_pending ON replies (received_at) WHERE status = 'received'`.execute(db);
  await sql`CREATE INDEX replies_customer ON replies (from_addr, received_at)`.execute(db);
  await sql`
    CREATE TABLE opt_outs (
      customer text NOT NULL,
      scope text NOT NULL,
      opted_out boolean NOT NULL,
      keyword text,
      reply_id text,
      changed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (customer, scope)
    )`.execute(db);
  await sql`ALTER TABLE messages ADD COLUMN reply_to text`.execute(db);
  await sql`CREATE INDEX messages_thread ON messages (to_addr, from_addr, created_at DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS messages_thread`.execute(db);
  await sql`ALTER TABLE messages DROP COLUMN IF EXISTS reply_to`.execute(db);
  for (const t of ['opt_outs', 'replies', 'conversations', 'inbound_parts']) await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(db);
}
