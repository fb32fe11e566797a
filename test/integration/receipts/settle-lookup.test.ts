/**
 * A batch of status changes (store/status-changes.ts `changeMessagesFrom`, in the statement that
 * stores receipts among others) finds its messages by id, however many messages are in the status
 * it changes them from: receipts name 'submitted' as a constant, and the planner answered that
 * from the partial index of submitted messages, reading every message awaiting its receipt and
 * comparing each with each change.
 */
import { describe, expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { changeMessagesFrom } from '../../../src/store/status-changes.ts';
import { batchArray } from '../../../src/store/batch-array.ts';
import { statementPlan, rowsWorked, scansOf } from '../../support/plans.ts';

const s = freshSchemaPerTest();

describe('status changes of a batch of messages', () => {
  it('finds the messages by id among thousands in the status they change from, planned custom or generic', async () => {
    // Analyzed while every message was delivered (planner-statistics.ts); then 3,000 were sent and
    // wait for their receipts, fewer than would make the daemon analyze again.
    const insert = (prefix: string, status: string) => sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, submitted_at, final_at)
      SELECT ${prefix} || g, '+14155550100', 'text', 'default', 0, true, ${status}, now(), now(),
        CASE WHEN ${status} = 'delivered' THEN now() END
      FROM generate_series(1, 3000) g`.execute(s.db);
    await insert('done-', 'delivered');
    await sql`ANALYZE messages`.execute(s.db);
    await insert('sent-', 'submitted');
    const ids = Array.from({ length: 100 }, (_, i) => `sent-${i + 1}`);
    // Final receipts for 100 of them, as storeReceipts settles them: 'submitted' a constant.
    const statement = sql`WITH ${changeMessagesFrom(sql`(
        SELECT u.id, 'delivered'::text AS status, 'submitted'::text AS previous, NULL::text AS smsc, NULL::smallint AS segments,
          NULL::text AS error_code, NULL::text AS error_reason, 1::smallint AS delivered_segments
        FROM unnest(${batchArray(ids, 'text[]')}) AS u(id)) AS v`)}
      SELECT count(*)::int AS n FROM changed`;

    const rowsRead = async (query: RawBuilder<unknown>, generic: boolean): Promise<number> =>
      rowsWorked(await statementPlan(s.db, query, generic), scansOf('messages'));
    // By id: a few reads per change (the row, and its events' lookups). Through the submitted
    // ones: all 3,000 of them, each compared with the changes.
    expect(await rowsRead(statement, false)).toBeLessThanOrEqual(10 * ids.length);
    expect(await rowsRead(statement, true)).toBeLessThanOrEqual(10 * ids.length);

    // And the changes themselves, made for real.
    expect((await statement.execute(s.db)).rows).toEqual([{ n: 100 }]);
    const counts = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM messages GROUP BY 1 ORDER BY 1`.execute(s.db);
    expect(counts.rows).toEqual([
      { status: 'delivered', n: 3100 },
      { status: 'submitted', n: 2900 },
    ]);
  });
});
