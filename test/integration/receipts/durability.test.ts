import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { killed, startChild } from '../../support/child.ts';
import { openDb } from '../../../src/store/db.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/services.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('receipt durability', () => {
  it('a daemon killed between a receipt arriving and its commit: the SMSC sends it again and the status changes once', async () => {
    // The receipt comes 3 s after the answer: time enough, on a loaded machine, to take the table
    // lock below before it arrives (with 0.3 s, and once in a full run with 1.5 s, it was committed
    // and answered first).
    const sim = await h.startSim({ receiptDelayMs: 3000, receiptRetryMs: 300, responseTimeoutMs: 1000 });
    const raw = {
      database: { url: TEST_DATABASE_URL, pool_size: 4 },
      redis: { url: TEST_REDIS_URL, prefix: h.prefix },
      http: { listen: '127.0.0.1:19464' },
      intake: { consumer: 'victim', block: '100ms' },
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
    };
    const child = await startChild('test/support/daemon-child.ts', {
      PARLEY_TEST_CONFIG: JSON.stringify(raw),
      PARLEY_TEST_SCHEMA: h.schema.schema,
    });
    // Hold the receipts table so the victim's receipt transaction blocks before it can commit.
    const blocker = openDb({ url: TEST_DATABASE_URL, schema: h.schema.schema, poolSize: 1 });
    try {
      // Connected before the message goes, so that only BEGIN and the lock are left to do after it.
      await sql`SELECT 1`.execute(blocker);
      await h.send([{ id: 'k1', to: '+14155550001', text: 'kill me softly' }]);
      await h.until('submitted', async () => (await h.acceptedCount()) === 1);
      await blocker.transaction().execute(async (tx) => {
        await sql`LOCK TABLE receipts IN ACCESS EXCLUSIVE MODE`.execute(tx);
        await h.until('receipt sent to the victim', () => sim.stats.receipts.sent >= 1, 10_000);
        // The receipt is in the victim's hands, uncommitted and unanswered: kill it now.
        await new Promise((r) => setTimeout(r, 100));
        await killed(child);
      });
    } finally {
      await blocker.destroy();
    }
    expect(sim.stats.receipts.acked).toBe(0);
    const stored = await h.schema.db.selectFrom('receipts').select('id').execute();
    expect(stored).toHaveLength(0);

    // A new daemon binds; the simulator sends the receipt again; it is stored and applied once.
    await h.startDaemon(h.config({ smscs: raw.smscs, routes: raw.routes }));
    await h.until('delivered', async () => {
      const row = await h.schema.db.selectFrom('messages').select('status').where('id', '=', 'k1').executeTakeFirst();
      return row?.status === 'delivered';
    });
    await h.until('receipt acknowledged', () => sim.stats.receipts.acked === 1);
    expect(sim.stats.receipts.sent).toBeGreaterThanOrEqual(2);
    const events = await readStatusHistory(h.schema.db, ['k1']);
    expect(events.map((e) => e.status)).toEqual(['queued', 'submitted', 'delivered']);
    expect(await h.schema.db.selectFrom('receipts').select('id').execute()).toHaveLength(1);
  }, 60_000);

  it('the same receipt delivered twice is stored once and changes nothing the second time', async () => {
    // The simulator resends a receipt it saw no answer to within its response timeout. The receipts
    // table is held locked until the second copy went out, so both copies reach the daemon before
    // the first can be committed and answered, however fast the daemon's commit is.
    const sim = await h.startSim({ receiptDelayMs: 1500, responseTimeoutMs: 10, receiptRetryMs: 20 });
    await h.startDaemon(
      h.config({
        store: { batch_delay: '100ms' },
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
      }),
    );
    const blocker = openDb({ url: TEST_DATABASE_URL, schema: h.schema.schema, poolSize: 1 });
    try {
      // Connected before the message goes, so that only BEGIN and the lock are left to do after it.
      await sql`SELECT 1`.execute(blocker);
      await h.send([{ id: 'twice', to: '+14155550002', text: 'hello' }]);
      await h.until('submitted', async () => (await h.acceptedCount()) === 1);
      await blocker.transaction().execute(async (tx) => {
        await sql`LOCK TABLE receipts IN ACCESS EXCLUSIVE MODE`.execute(tx);
        await h.until('sent at least twice', () => sim.stats.receipts.sent >= 2, 10_000);
      });
    } finally {
      await blocker.destroy();
    }
    await h.until('delivered', async () => {
      const row = await h.schema.db.selectFrom('messages').select('status').where('id', '=', 'twice').executeTakeFirst();
      return row?.status === 'delivered';
    });
    await h.until('receipt acknowledged', () => sim.stats.receipts.acked >= 1);
    const stored = await h.schema.db.selectFrom('receipts').select('fingerprint').execute();
    expect(stored).toHaveLength(1);
    // Recognised by 22 base64url characters of its SHA-256 (132 bits), not 64 hex characters.
    expect(stored[0]?.fingerprint).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const events = await readStatusHistory(h.schema.db, ['twice']);
    expect(events.filter((e) => e.status === 'delivered')).toHaveLength(1);
  });
});
