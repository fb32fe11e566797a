import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/store/db.ts';
import { hasFixedResult, prepareRepeatedStatements } from '../../../src/store/repeated-statements.ts';
import { freshSchema, TEST_DATABASE_URL, uniqueName, type TestSchema } from '../../support/services.ts';
import { insertMessages, markAttempted, recordAnswers, recordSubmits } from '../../../src/store/messages.ts';
import { storeReceipts } from '../../../src/store/receipts.ts';
import { InboundPartIds, storeParts } from '../../../src/store/replies.ts';
import { readReplyBatch } from '../../../src/store/reply-batch.ts';
import { assembleParts } from '../../../src/inbound/reassembly.ts';
import { acceptedSegment, carrierReceipt } from '../../support/receipt-records.ts';

/** What the connection has prepared (pg_prepared_statements is per session). */
async function preparedOn(query: (text: string) => Promise<{ rows: { statement: string }[] }>): Promise<string[]> {
  return (await query('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).rows.map((r) => r.statement);
}

describe('repeated statements are prepared once per connection', () => {
  const schema = uniqueName('prep');
  let db: Db;

  beforeAll(async () => {
    // One connection: every statement below goes on the same session.
    db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    await sql`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  const prepared = async (): Promise<string[]> =>
    (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(db)).rows.map((r) => r.statement);

  it('prepares a statement the second time it comes, and it answers as before with other values', async () => {
    const insert = (ids: number[]) =>
      sql`INSERT INTO items (id, name) SELECT i, 'n' || i FROM unnest(${ids}::int[]) AS i`.execute(db);
    await insert([1, 2]);
    expect((await prepared()).some((s) => s.includes('INSERT INTO items'))).toBe(false);
    await insert([3]);
    await insert([4, 5, 6]);
    expect((await prepared()).filter((s) => s.includes('INSERT INTO items'))).toHaveLength(1);
    const names = async (ids: number[]) =>
      (await sql<{ name: string }>`SELECT name FROM items WHERE id = ANY (${ids}::int[]) ORDER BY id`.execute(db)).rows.map((r) => r.name);
    expect(await names([1])).toEqual(['n1']);
    expect(await names([2, 6])).toEqual(['n2', 'n6']);
    expect(await names([4, 5, 99])).toEqual(['n4', 'n5']);
    expect((await prepared()).filter((s) => s.includes('SELECT name FROM items'))).toHaveLength(1);
  });

  it('never prepares a statement whose result could change shape, and a column added meanwhile breaks neither kind', async () => {
    const star = async (id: number) => (await sql<Record<string, unknown>>`SELECT * FROM items WHERE id = ${id}`.execute(db)).rows[0];
    const named = async (id: number) => (await sql<{ name: string }>`SELECT name FROM items WHERE id = ${id}`.execute(db)).rows[0];
    for (const id of [1, 2, 3]) {
      await star(id);
      await named(id);
    }
    const before = await prepared();
    expect(before.some((s) => s.includes('SELECT * FROM items'))).toBe(false);
    expect(before.some((s) => s.includes('SELECT name FROM items WHERE id = $1'))).toBe(true);
    // A migration adding a column while the connection lives.
    await sql`ALTER TABLE items ADD COLUMN note text NOT NULL DEFAULT 'added'`.execute(db);
    expect(await star(1)).toEqual({ id: 1, name: 'n1', note: 'added' });
    expect(await named(2)).toEqual({ name: 'n2' });
  });

  it('an error in a prepared statement is the statement\'s own: the next call runs', async () => {
    const insertOne = (id: number) => sql`INSERT INTO items (id, name) VALUES (${id}, 'x')`.execute(db);
    await insertOne(100);
    await insertOne(101);
    await expect(insertOne(100)).rejects.toMatchObject({ code: '23505' });
    await insertOne(102);
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM items WHERE id >= 100`.execute(db)).rows[0]?.n).toBe(3);
  });
});

describe('a statement that cannot be prepared yet', () => {
  it('fails as it would unprepared, and runs once what it needs exists', async () => {
    const schema = uniqueName('prep');
    const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
    try {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
      const read = (id: number) => sql<{ id: number }>`SELECT id FROM later WHERE id = ${id}`.execute(db);
      // Its second use is sent to be prepared; the parse fails as the plain statement would.
      for (const id of [1, 2, 3]) await expect(read(id)).rejects.toMatchObject({ code: '42P01' });
      await sql`CREATE TABLE later (id int)`.execute(db);
      await sql`INSERT INTO later VALUES (2)`.execute(db);
      expect((await read(2)).rows).toEqual([{ id: 2 }]);
      expect((await read(3)).rows).toEqual([]);
    } finally {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    }
  });
});

describe('database.prepared_statements: false', () => {
  it('prepares nothing', async () => {
    const db = openDb({ url: TEST_DATABASE_URL, poolSize: 1, preparedStatements: false });
    try {
      for (const n of [1, 2, 3]) expect((await sql<{ v: number }>`SELECT ${n}::int AS v`.execute(db)).rows).toEqual([{ v: n }]);
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`.execute(db)).rows[0]?.n).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});

describe('the number of statements prepared on one connection is bounded', () => {
  it('keeps the first ones and sends the rest unprepared', async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      prepareRepeatedStatements(client, { preparedAfter: 1, maxPrepared: 2 });
      for (const n of [1, 2, 3, 4]) {
        const res = await client.query<{ v: number }>(`SELECT $1::int + ${n} AS v`, [10]);
        expect(res.rows[0]?.v).toBe(10 + n);
      }
      const statements = await preparedOn((text) => client.query<{ statement: string }>(text));
      expect(statements).toEqual(['SELECT $1::int + 1 AS v', 'SELECT $1::int + 2 AS v']);
      // Without parameters, and in forms other than (text, values), nothing is prepared.
      await client.query('SELECT 1');
      await client.query({ text: 'SELECT $1::int AS v', values: [1] });
      expect(await preparedOn((text) => client.query<{ statement: string }>(text))).toHaveLength(2);
    } finally {
      await client.end();
    }
  });
});

describe('hasFixedResult', () => {
  it.each([
    ['SELECT id, name FROM items WHERE id = $1', true],
    ['SELECT count(*) AS n FROM items', true],
    ['SELECT COUNT( * ) FROM items', true],
    ['UPDATE items SET name = $1 WHERE id = $2 RETURNING id, name', true],
    ['SELECT * FROM items', false],
    ['SELECT i.* FROM items i', false],
    ['DELETE FROM items WHERE id = $1 RETURNING *', false],
    ['SELECT id * 2 FROM items', false],
    ['SELECT id, name -- not items.*\nFROM items /* nor * */ WHERE id = $1', true],
    ['SELECT /* a comment */ * FROM items', false],
  ])('%s -> %s', (text, fixed) => {
    expect(hasFixedResult(text)).toBe(fixed);
  });
});

describe('the hot path is prepared', () => {
  let s: TestSchema;
  let db: Db;
  beforeAll(async () => {
    s = await freshSchema();
    // One connection, so its pg_prepared_statements shows every statement below.
    db = s.openPool(1);
  });
  afterAll(async () => {
    await s.drop();
  });

  const ids = new InboundPartIds();
  /** One message through the hot path, each step a batch of one (light load). */
  async function cycle(batch: number): Promise<void> {
    const id = `m${batch}`;
    await insertMessages(db, 'd1', [{ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 }]);
    await markAttempted(db, [id]);
    const answer = acceptedSegment(id, `C${batch}`);
    await recordAnswers(db, [answer]);
    await recordSubmits(db, [answer], [{ id, status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1, route: 'default' }]);
    await storeReceipts(db, [carrierReceipt(`C${batch}`, 'DELIVRD', 'delivered')]);
    const part = { fingerprint: `fp${batch}`, smsc: 'sim', bind: 'sim#1', from: '+14155550001', to: '12345', concatKey: null, total: 1, seq: 1, dataCoding: 0, body: Buffer.from('YES') };
    await storeParts(db, [part], (parts, incomplete) => assembleParts(parts, incomplete, () => 'gsm7'), 60_000, 120_000, ids);
    await readReplyBatch(db, [{ key: `r${batch}`, customer: '+14155550001', ourNumber: '12345', before: new Date() }], 3600);
  }
  const plans = async () =>
    (await sql<{ statement: string; generic: number; custom: number }>`
      SELECT statement, generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements`.execute(db)).rows;
  /**
   * A piece of each hot statement's text: the inserts of messages, dispatch attempts, answers,
   * receipts and customer messages, a submit batch's early match with its locks and its status
   * changes, a batch of replies' reads.
   */
  const HOT = [
    'INSERT INTO messages (',
    'INSERT INTO dispatch_attempts (',
    'INSERT INTO segments (',
    'INSERT INTO receipts (',
    'INSERT INTO inbound_parts (',
    'WITH early AS (',
    'SELECT id, route, metadata, delivered_segments, segments, smsc, submitted_at, possible_duplicate',
    'INSERT INTO conversations (customer, our_number, expires_at, last_inbound_at)',
  ];

  it('each batch statement of messages, answers, receipts and customer messages, by its second batch', async () => {
    for (let batch = 1; batch <= 3; batch++) await cycle(batch);
    const statements = (await plans()).map((r) => r.statement);
    for (const piece of HOT) {
      expect(statements.some((text) => text.includes(piece)), piece).toBe(true);
    }
  });

  it('and batches of one are planned generic from the first call, never again at every call', async () => {
    // Seven more calls of each: 2 + 7 since each was prepared. With the array lengths visible to
    // custom plans (1, against the 10 rows a generic plan assumes), every call was a custom plan;
    // with the lengths hidden, five custom plans came before the generic one; now none do
    // (generic-plans.ts).
    for (let batch = 4; batch <= 10; batch++) await cycle(batch);
    const rows = await plans();
    for (const piece of HOT) {
      const row = rows.find((r) => r.statement.includes(piece));
      expect(row, piece).toBeDefined();
      expect({ piece, custom: row!.custom, generic: row!.generic > 0 }).toEqual({ piece, custom: 0, generic: true });
    }
  });
});
