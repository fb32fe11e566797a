import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/store/db.ts';
import { GENERIC_PLAN, GENERIC_PLAN_MARK, isMarkedGeneric, planBatchesGeneric } from '../../../src/store/generic-plans.ts';
import { freshSchema, TEST_DATABASE_URL, withTestClient, type TestSchema } from '../../support/services.ts';
import { insertMessages, recordAnswers, recordSubmits } from '../../../src/store/messages.ts';
import { storeReceipts } from '../../../src/store/receipts.ts';
import { acceptedSegment, carrierReceipt } from '../../support/receipt-records.ts';

/** plan_cache_mode as the statement itself sees it, with a parameter so that it is a plan-cache statement. */
const modeIn = async (db: Db, marked: boolean): Promise<string> =>
  (await sql<{ mode: string }>`${marked ? GENERIC_PLAN : sql``}SELECT current_setting('plan_cache_mode') AS mode, ${1}::int AS n`.execute(db)).rows[0]!.mode;

describe('batch statements planned generic', () => {
  let db: Db;
  beforeAll(() => {
    // One connection: every statement below goes on the same session.
    db = openDb({ url: TEST_DATABASE_URL, poolSize: 1 });
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('a marked statement runs with force_generic_plan, every other one with the session\'s own setting', async () => {
    expect(await modeIn(db, false)).toBe('auto');
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    expect(await modeIn(db, false)).toBe('auto');
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    // Without parameters nothing is set back: such a statement is planned the same either way.
    expect((await sql<{ mode: string }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(db)).rows[0]!.mode).toBe('force_generic_plan');
    expect(await modeIn(db, false)).toBe('auto');
  });

  /** A statement (marked or not) in a transaction that is then rolled back: what it saw. */
  const inRolledBack = async (marked: boolean): Promise<string> => {
    let seen = '';
    await expect(
      db.transaction().execute(async (tx) => {
        seen = await modeIn(tx as unknown as Db, marked);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    return seen;
  };

  it('a rolled-back transaction undoes the setting made in it, and the next statement sets it again', async () => {
    expect(await modeIn(db, false)).toBe('auto');
    expect(await inRolledBack(true)).toBe('force_generic_plan');
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    // And the other way round: a RESET in a transaction that is rolled back, then an unmarked statement.
    expect(await inRolledBack(false)).toBe('auto');
    expect(await modeIn(db, false)).toBe('auto');
  });

  it('a transaction whose COMMIT rolls it back (a failure caught inside it) undoes its setting too', async () => {
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    await db.transaction().execute(async (tx) => {
      expect(await modeIn(tx as unknown as Db, false)).toBe('auto');
      await expect(sql`SELECT 1 / ${0}::int AS x`.execute(tx)).rejects.toMatchObject({ code: '22012' });
    });
    expect(await modeIn(db, false)).toBe('auto');
    expect(await modeIn(db, true)).toBe('force_generic_plan');
  });

  it('a statement that fails in an aborted transaction leaves nothing wrong behind', async () => {
    await expect(
      db.transaction().execute(async (tx) => {
        await expect(sql`SELECT 1 / ${0}::int AS x`.execute(tx)).rejects.toMatchObject({ code: '22012' });
        // The SET before it fails with the transaction, and so does the statement.
        await modeIn(tx as unknown as Db, true);
      }),
    ).rejects.toMatchObject({ code: '25P02' });
    expect(await modeIn(db, true)).toBe('force_generic_plan');
    expect(await modeIn(db, false)).toBe('auto');
  });

  it('the setting is sent only when it changes', async () => {
    await withTestClient(async (client) => {
      const sent: string[] = [];
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
        if (typeof args[0] === 'string' && /^(SET|RESET) plan_cache_mode/.test(args[0])) sent.push(args[0]);
        return query(...args);
      };
      planBatchesGeneric(client);
      const run = (marked: boolean) => client.query(`${marked ? `${GENERIC_PLAN_MARK} ` : ''}SELECT $1::int AS n`, [1]);
      for (const marked of [false, true, true, true, false, false, true]) await run(marked);
      expect(sent).toEqual(['SET plan_cache_mode = force_generic_plan', 'RESET plan_cache_mode', 'SET plan_cache_mode = force_generic_plan']);
      // A config object is a statement like any other: unmarked, it runs with the session's own setting.
      const mode = await client.query<{ mode: string }>({ text: "SELECT current_setting('plan_cache_mode') AS mode, $1::int AS n", values: [1] });
      expect(mode.rows[0]?.mode).toBe('auto');
    });
  });

  it('savepoints, chained transactions and a BEGIN behind a comment leave the setting known or re-sent', async () => {
    await withTestClient(async (client) => {
      planBatchesGeneric(client);
      const mode = async (marked: boolean): Promise<string> =>
        (await client.query<{ mode: string }>(`${marked ? `${GENERIC_PLAN_MARK} ` : ''}SELECT current_setting('plan_cache_mode') AS mode, $1::int AS n`, [1])).rows[0]!.mode;
      // In a transaction still going on after these, a RESET is made, then the transaction is rolled
      // back: the RESET is undone. A savepoint rolled back keeps the transaction; COMMIT AND CHAIN
      // begins the next one at once.
      for (const going of [['SAVEPOINT a', 'ROLLBACK WORK TO SAVEPOINT a'], ['COMMIT AND CHAIN']]) {
        expect(await mode(true)).toBe('force_generic_plan');
        await client.query('BEGIN');
        for (const text of going) await client.query(text);
        expect(await mode(false), going.join('; ')).toBe('auto');
        await client.query('ROLLBACK');
        expect(await mode(false), going.join('; ')).toBe('auto');
      }
      // A BEGIN behind a comment, and a transaction that fails and is then committed (rolled back).
      expect(await mode(true)).toBe('force_generic_plan');
      await client.query('/* begun by hand */ BEGIN');
      expect(await mode(false)).toBe('auto');
      await expect(client.query('SELECT 1 / $1::int AS x', [0])).rejects.toMatchObject({ code: '22012' });
      expect((await client.query('COMMIT')).command).toBe('ROLLBACK');
      expect(await mode(false)).toBe('auto');
    });
  });

  it('database.generic_plans: false sets nothing', async () => {
    const off = openDb({ url: TEST_DATABASE_URL, poolSize: 1, genericPlans: false });
    try {
      expect(await modeIn(off, true)).toBe('auto');
    } finally {
      await off.destroy();
    }
  });
});

describe('the hot path with status webhooks', () => {
  let s: TestSchema;
  const sent: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  beforeAll(async () => {
    s = await freshSchema();
    // Every SET and RESET the wrapper sends, seen under it (it calls the client's own query).
    proto.query = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' && /^(SET|RESET) plan_cache_mode/.test(args[0])) sent.push(args[0]);
      return original.apply(this, args);
    };
  });
  afterAll(async () => {
    proto.query = original;
    await s.drop();
  });

  it('sets the plan mode at its start only: the deliveries are written by a marked statement in the same transactions', async () => {
    const db = s.openPool(1);
    try {
      const hooks = ['status-hook'];
      for (let batch = 1; batch <= 4; batch++) {
        const id = `w${batch}`;
        await insertMessages(db, 'd1', [{ id, to: '+14155550002', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 }], [], { statusWebhooks: hooks });
        const answer = acceptedSegment(id, `W${batch}`);
        await recordAnswers(db, [answer]);
        await recordSubmits(db, [answer], [{ id, status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1, route: 'default' }], hooks);
        await storeReceipts(db, [carrierReceipt(`W${batch}`, 'DELIVRD', 'delivered')], hooks);
      }
      const deliveries = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries`.execute(db);
      // queued, submitted and delivered, for each of the 4 messages.
      expect(deliveries.rows[0]?.n).toBe(12);
      // Set in the first batch's transaction, and once more after its COMMIT (a setting changed in a
      // transaction counts as not known once it ends); then never again, and never reset.
      expect(sent).toEqual(['SET plan_cache_mode = force_generic_plan', 'SET plan_cache_mode = force_generic_plan']);
    } finally {
      await db.destroy();
    }
  });
});

describe('isMarkedGeneric', () => {
  it.each([
    [`${GENERIC_PLAN_MARK} WITH x AS (SELECT 1) SELECT 1`, true],
    [`\n      ${GENERIC_PLAN_MARK}WITH x AS (SELECT 1) SELECT 1`, true],
    ['WITH x AS (SELECT 1) SELECT 1', false],
    [`SELECT 1 ${GENERIC_PLAN_MARK}`, false],
  ])('%j -> %s', (text, marked) => {
    expect(isMarkedGeneric(text)).toBe(marked);
  });
});
