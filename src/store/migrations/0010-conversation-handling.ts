import { sql, type Kysely } from 'kysely';

/**
 * Conversations handled by people (the HTTP API and the agent inbox): who a conversation is
 * assigned to (automation does not answer it meanwhile), when it was closed, and when each side
 * last wrote, so that "unanswered" (the customer wrote last) is a column read, not a scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE conversations
      ADD COLUMN assigned_to text,
      ADD COLUMN assigned_at timestamptz,
      ADD COLUMN closed_at timestamptz,
      ADD COLUMN last_inbound_at timestamptz,
      ADD COLUMN last_outbound_at timestamptz`.execute(db);
  // A conversation's customer messages, read for its thread and its latest message.
  await sql`CREATE INDEX replies_conversation ON replies (conversation_id, received_at) WHERE conversation_id IS NOT NULL`.execute(db);
  // Existing conversations: the latest message each way within them (messages through messages_thread).
  await sql`
    UPDATE conversations c SET last_inbound_at = r.at
    FROM (SELECT conversation_id, max(received_at) AS at FROM replies WHERE conversation_id IS NOT NULL GROUP BY conversation_id) r
    WHERE r.conversation_id = c.id`.execute(db);
  await sql`
    UPDATE conversations c SET last_outbound_at = (SELECT max(m.created_at) FROM messages m
      WHERE m.to_addr = c.customer AND m.from_addr = c.our_number AND m.created_at >= c.opened_at
        AND m.created_at <= c.expires_at)`.execute(db);
  // The API lists conversations by latest activity, newest first, paging on (last_activity_at, id).
  await sql`CREATE INDEX conversations_activity ON conversations (last_activity_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX conversations_customer ON conversations (customer, last_activity_at DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS replies_conversation`.execute(db);
  await sql`DROP INDEX IF EXISTS conversations_customer`.execute(db);
  await sql`DROP INDEX IF EXISTS conversations_activity`.execute(db);
  await sql`
    ALTER TABLE conversations
      DROP COLUMN IF EXISTS assigned_to,
      DROP COLUMN IF EXISTS assigned_at,
      DROP COLUMN IF EXISTS closed_at,
      DROP COLUMN IF EXISTS last_inbound_at,
      DROP COLUMN IF EXISTS last_outbound_at`.execute(db);
}
