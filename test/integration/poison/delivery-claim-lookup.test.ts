/**
 * The claim of due webhook deliveries (after each delivery that ends, and each poll) reads only
 * the deliveries it takes, however large a slow or failing webhook's due backlog: it read every
 * due delivery by due time, looking for the other webhooks' and for those of webhooks no longer
 * configured, and then every delivery to update the few it took.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { claimDueDeliveries, claimDueDeliveriesQuery } from '../../../src/store/webhooks.ts';
import { statementPlan, rowsWorked, scansOf } from '../../support/plans.ts';

const s = freshSchemaPerTest();

const BACKLOG = 20_000;

/** Deliveries to `webhook` due from an hour ago (`first + g * step` seconds after it), or later. */
function insertDeliveries(webhook: string, count: number, status: string, first = 0, step = 0.01): Promise<unknown> {
  return sql`
    INSERT INTO webhook_deliveries (webhook, event_type, body, status, next_attempt_at)
    SELECT ${webhook}, 'message.inbound', jsonb_build_object('n', g), ${status},
      now() - interval '1 hour' + make_interval(secs => ${first}::float8 + g * ${step}::float8)
    FROM generate_series(1, ${count}) g`.execute(s.db);
}

describe("claimDueDeliveries beside a slow webhook's due backlog", () => {
  it("reads only the deliveries it takes, planned custom or generic, and takes each webhook's oldest", async () => {
    // "slow" has all its slots busy and a backlog due; its past deliveries are finished.
    await insertDeliveries('slow', BACKLOG, 'pending', 0);
    await insertDeliveries('slow', BACKLOG, 'delivered', 0);
    await sql`ANALYZE webhook_deliveries`.execute(s.db);
    // What there is to take: "fast" (configured, 2 free slots) and "gone" (no longer configured).
    await insertDeliveries('fast', 3, 'pending', 5, 1);
    await insertDeliveries('gone', 2, 'pending', 7, 1);
    const free = new Map([['fast', 2], ['slow', 0]]);

    // Each delivery taken: its index entry, its row locked, its row updated, plus a probe per
    // webhook with deliveries pending. Before: every due delivery of "slow" for the webhooks not
    // configured, and every delivery for the UPDATE (60,016 rows).
    for (const generic of [false, true]) {
      const plan = await statementPlan(s.db, claimDueDeliveriesQuery(free, 10, 60_000), generic);
      expect(rowsWorked(plan, scansOf('webhook_deliveries'))).toBeLessThanOrEqual(10 * 4 + 10);
    }

    const claimed = await claimDueDeliveries(s.db, free, 10, 60_000);
    const taken = claimed.map((d) => `${d.webhook}:${String(d.body['n'])}`).sort();
    expect(taken).toEqual(['fast:1', 'fast:2', 'gone:1', 'gone:2']);
    expect(claimed.every((d) => d.attempts === 1)).toBe(true);
    // Leased: not due again until the lease ends.
    expect(await claimDueDeliveries(s.db, free, 10, 60_000)).toEqual([
      expect.objectContaining({ webhook: 'fast', body: { n: 3 } }),
    ]);
  });
});
