/**
 * Array parameters written as literals by Parley (store/array-parameters.ts) mean, on a real
 * server, element for element what pg's own encoding of the same array means; what Parley does
 * not write (a Buffer, a nested array, an object, a date Postgres cannot read as ISO) is left to pg.
 */
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral, writeArrayParameters } from '../../../src/store/array-parameters.ts';
import { openDb, type Db } from '../../../src/store/db.ts';
import { TEST_DATABASE_URL, withTestClient } from '../../support/services.ts';

const CASES: [type: string, values: unknown[]][] = [
  ['text[]', ['m-1', 'm-2', 'plain text, with commas {and braces}']],
  ['text[]', ['say "hi"', 'back\\slash', '\\"both\\"', 'end\\', '"']],
  ['text[]', ['', ' leading and trailing ', 'NULL', 'null', null, undefined, 'tab\there', 'line\nbreak']],
  ['text[]', ['héllo wörld', 'Привет', '你好', '😀 surrogate pair', 'ÿ']],
  ['text[]', ['{"a":1,"b":"c\\"d"}', JSON.stringify({ tags: ['vip'], quote: '"' })]],
  ['text[]', []],
  ['integer[]', [0, 1, -1, 2_147_483_647, -2_147_483_648]],
  ['integer[]', [1, null, 3]],
  ['smallint[]', [1, 2, 255, -32_768]],
  ['bigint[]', [1n, 9_007_199_254_740_993n, -5n]],
  ['bigint[]', ['9007199254740993', null]],
  ['double precision[]', [0.1, -2.5e-7, 1e21, Number.NaN, Number.POSITIVE_INFINITY, -0]],
  ['boolean[]', [true, false, null]],
  [
    'timestamptz[]',
    [new Date('2026-12-06T20:50:01.123Z'), new Date(0), new Date('0001-01-01T00:00:00Z'), new Date('9999-12-31T23:59:59.999Z'), null],
  ],
  ['timestamptz[]', [new Date('2026-03-29T01:30:00.5+01:00'), new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999))]],
];

describe('array parameters written by Parley', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it.each(CASES)('%s, case %#, reads back as pg encoding it', async (type, values) => {
    const literal = arrayLiteral(values);
    expect(literal).toBeTypeOf('string');
    const res = await client.query<{ ours: unknown; theirs: unknown; same: boolean }>(
      `SELECT $1::${type} AS ours, $2::${type} AS theirs, $1::${type} IS NOT DISTINCT FROM $2::${type} AS same`,
      [literal, values],
    );
    expect(res.rows[0]!.same).toBe(true);
    expect(res.rows[0]!.ours).toEqual(res.rows[0]!.theirs);
  });

  it('leaves to pg an array holding what it does not write', () => {
    expect(arrayLiteral([Buffer.from('ab'), Buffer.from('c')])).toBeUndefined();
    expect(arrayLiteral([[1, 2], [3, 4]])).toBeUndefined();
    expect(arrayLiteral(['a', { b: 1 }])).toBeUndefined();
    expect(arrayLiteral([new Date(Number.NaN)])).toBeUndefined();
    expect(arrayLiteral([new Date('0000-06-01T00:00:00Z')])).toBeUndefined();
  });

  it('on a pool connection, a statement gets the literal and its other parameters unchanged; what pg writes still works', async () => {
    const db: Db = openDb({ url: TEST_DATABASE_URL, poolSize: 1 });
    try {
      const rows = await sql<{ n: number; s: string; tag: string; d: Date; b: Buffer | null }>`
        SELECT u.n, u.s, ${'one "tag"'}::text AS tag, u.d, b.b
        FROM unnest(${[1, 2]}::int[], ${['a"b', 'c\\d']}::text[], ${[new Date('2026-01-02T03:04:05.006Z'), new Date(1)]}::timestamptz[])
          WITH ORDINALITY AS u(n, s, d, i)
        LEFT JOIN unnest(${[Buffer.from([0, 255]), null]}::bytea[]) WITH ORDINALITY AS b(b, i) ON b.i = u.i
        ORDER BY u.i`.execute(db);
      expect(rows.rows).toEqual([
        { n: 1, s: 'a"b', tag: 'one "tag"', d: new Date('2026-01-02T03:04:05.006Z'), b: Buffer.from([0, 255]) },
        { n: 2, s: 'c\\d', tag: 'one "tag"', d: new Date(1), b: null },
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('a call with a config object or without values goes through as it came', async () => {
    await withTestClient(async (own) => {
      writeArrayParameters(own);
      expect((await own.query({ text: 'SELECT cardinality($1::text[]) AS n', values: [['x', 'y']] })).rows[0]).toEqual({ n: 2 });
      expect((await own.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      expect((await own.query('SELECT $1::text[] AS a', [['x', null, 'z"']])).rows[0]).toEqual({ a: ['x', null, 'z"'] });
    });
  });
});
