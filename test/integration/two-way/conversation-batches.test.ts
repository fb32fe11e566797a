/**
 * A batch of outbound messages continues the open conversations of its customers and opens one
 * for each of the others (store/conversations.ts `outboundTouches`, in the statement that inserts
 * the messages): every pair once, and without comparing every pair of the batch with every pair
 * continued, which the planner did with a NOT EXISTS over the continued pairs (a nested loop on its
 * estimate of a row or two per CTE).
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { outboundTouches } from '../../../src/store/conversations.ts';
import { batchArray } from '../../../src/store/batch-array.ts';
import { statementPlan, rowsWorked } from '../../support/plans.ts';
import type { OutboundTouch } from '../../../src/domain/conversation.ts';

const s = freshSchemaPerTest();

const customer = (i: number): string => `+1415${String(i).padStart(7, '0')}`;

describe('conversations touched by a batch of outbound messages', () => {
  it('continues the open ones and opens the others, each pair once, in work that grows with the batch and not with its square', async () => {
    // 300 customers with an open conversation each.
    await insertMessages(
      s.db,
      'd1',
      Array.from({ length: 300 }, (_, i) => ({ id: `first-${i}`, to: customer(i), from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 })),
    );
    await sql`ANALYZE conversations`.execute(s.db);
    // A batch of 400: 300 of them to those customers, 100 to new ones.
    const touches: OutboundTouch[] = Array.from({ length: 400 }, (_, i) => ({
      customer: customer(i),
      ourNumber: '12345',
      ttlSeconds: 3600,
      tags: { batch: 2 },
      messageId: `second-${i}`,
    }));
    // As insertMessages runs it: the arrays' lengths hidden from the planner (batch-array.ts), a
    // generic plan (generic-plans.ts), and `inserted` an INSERT of the ids not stored yet (a narrow
    // table stands in for messages) returning them, so that the planner expects what it expects
    // there: a few rows.
    const ids = touches.map((t) => t.messageId);
    const statement = sql`
      WITH inserted AS (
        INSERT INTO dispatch_attempts (message_id)
        SELECT u.id FROM unnest(${batchArray(ids, 'text[]')}) AS u(id)
        WHERE u.id <> ALL (ARRAY(SELECT x.id FROM messages x WHERE x.id = ANY (${batchArray(ids, 'text[]')})))
        RETURNING message_id AS id, 'queued'::text AS status
      ), ${outboundTouches(touches, sql`(SELECT id FROM inserted WHERE status = 'queued')`)}
      SELECT 1`;
    const worked = rowsWorked(await statementPlan(s.db, statement, true), (node) => node['Node Type'] === 'CTE Scan');
    // Each of the batch's few CTEs read a few times over: thousands. Every pair against every pair
    // continued: 300 x 400 / 2 and more.
    expect(worked).toBeLessThan(10 * touches.length);

    // The statement for real (the plan's run was rolled back).
    await statement.execute(s.db);
    const rows = await sql<{ customer: string; last_outbound_id: string; tags: Record<string, unknown> }>`
      SELECT customer, last_outbound_id, tags FROM conversations ORDER BY customer, id`.execute(s.db);
    expect(rows.rows).toHaveLength(400);
    expect(new Set(rows.rows.map((r) => r.customer)).size).toBe(400);
    expect(rows.rows.every((r, i) => r.last_outbound_id === `second-${i}` && r.tags['batch'] === 2)).toBe(true);
  });
});
