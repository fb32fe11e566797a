/**
 * The message pipelines have a pool of their own (database.pipeline_pool_size): a report, a sweep
 * or a poll that holds every connection of the shared pool (database.pool_size) never holds up a
 * message, a receipt, a customer's message or its answer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, untilHandled } from '../../support/two-way.ts';
import { openDb } from '../../../src/store/db.ts';
import { TEST_DATABASE_URL } from '../../support/services.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

/** Less than openDb's connection time-out (10 s). */
const WITHIN_MS = 8_000;

/** Statements waiting for a lock on `table` of this test's schema. */
async function waitingOn(table: string): Promise<number> {
  const r = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE NOT l.granted AND c.relname = ${table} AND s.nspname = ${h.schema.schema}`.execute(h.schema.db);
  return r.rows[0]!.n;
}

describe('the pipelines pool', () => {
  it('sends, records receipts and answers customers while the shared pool is held by a statement waiting for a lock', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        database: { url: TEST_DATABASE_URL, pool_size: 1, pipeline_pool_size: 2 },
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '12345' }],
        numbers: [{ address: '12345', rules: [{ name: 'ping', keywords: ['PING'], actions: [{ reply: 'PONG' }] }] }],
      }),
    );
    const blocker = openDb({ url: TEST_DATABASE_URL, schema: h.schema.schema, poolSize: 1 });
    try {
      await blocker.transaction().execute(async (tx) => {
        // Every daemon reads the run-time pauses each second on the shared pool: with the table
        // locked, that read waits, holding the shared pool's only connection.
        await sql`LOCK TABLE paused IN ACCESS EXCLUSIVE MODE`.execute(tx);
        await h.until('the pauses poll waits for the lock', async () => (await waitingOn('paused')) > 0, 10_000);

        // Each within less than the 10 s a query waits for a pooled connection before it fails: a
        // pipeline step left on the shared pool (the reply handler's claim was) shows as a time-out.
        await h.send(Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, to: `+1415555${String(1000 + i)}`, text: `message ${i}` })));
        await h.until('every message delivered', async () => {
          const rows = await h.schema.db.selectFrom('messages').select('status').where('id', 'like', 'p%').execute();
          return rows.length === 20 && rows.every((r) => r.status === 'delivered');
        }, WITHIN_MS);
        expect(await sim.injectReply({ from: '14155559999', to: '12345', text: 'PING' }).acked).toBe(true);
        await untilHandled(h, 1, WITHIN_MS);
        await h.until('the answer reached the SMSC', () => sim.arrivals.some((a) => a.destination === '14155559999' && a.text === 'PONG'), WITHIN_MS);

        // All of that happened with the shared pool held the whole time.
        expect(await waitingOn('paused')).toBeGreaterThan(0);
      });
    } finally {
      await blocker.destroy();
    }
  }, 60_000);
});
