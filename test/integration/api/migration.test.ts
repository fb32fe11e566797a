/**
 * Migration 0010 on a database that already has conversations: the latest message each way is
 * filled in, so the API's "unanswered" is right from the first start; down() undoes it.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as m0010 from '../../../src/store/migrations/0010-conversation-handling.ts';
import { freshSchema, type TestSchema } from '../../support/services.ts';

let s: TestSchema;
beforeAll(async () => {
  s = await freshSchema();
});
afterAll(async () => {
  await s.drop();
});

describe('migration 0010-conversation-handling', () => {
  it('fills in the latest message each way of existing conversations, and goes down cleanly', async () => {
    const db = s.db as unknown as Kysely<unknown>;
    await m0010.down(db);
    const ids = await sql<{ id: string }>`
      INSERT INTO conversations (customer, our_number, opened_at, expires_at) VALUES
        ('100', '12345', now() - interval '2 hours', now() + interval '1 hour'),
        ('200', '12345', now() - interval '2 hours', now() + interval '1 hour')
      RETURNING id::text`.execute(db);
    const [answered, waiting] = ids.rows.map((r) => r.id);
    await sql`
      INSERT INTO messages (id, to_addr, from_addr, body, route, priority, dlr, status, created_at) VALUES
        ('m1', '100', '12345', 'hello', 'r', 0, true, 'delivered', now() - interval '60 minutes'),
        ('m2', '100', '12345', 'answer', 'r', 0, true, 'delivered', now() - interval '10 minutes'),
        ('m3', '200', '12345', 'hello', 'r', 0, true, 'delivered', now() - interval '60 minutes')`.execute(db);
    await sql`
      INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, data_coding, received_at, conversation_id) VALUES
        ('r1', 'sim', '100', '12345', 'question', 1, 0, now() - interval '30 minutes', ${answered}::bigint),
        ('r2', 'sim', '200', '12345', 'question', 1, 0, now() - interval '30 minutes', ${waiting}::bigint)`.execute(db);
    await m0010.up(db);
    const rows = await sql<{ id: string; unanswered: boolean; assigned_to: string | null }>`
      SELECT id::text, last_inbound_at > coalesce(last_outbound_at, '-infinity') AS unanswered, assigned_to
      FROM conversations ORDER BY id`.execute(db);
    expect(rows.rows).toEqual([
      { id: answered, unanswered: false, assigned_to: null },
      { id: waiting, unanswered: true, assigned_to: null },
    ]);
    await m0010.down(db);
    const columns = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = ${s.schema} AND table_name = 'conversations'`.execute(db);
    expect(columns.rows.map((c) => c.column_name)).not.toContain('assigned_to');
    await m0010.up(db);
  });
});
