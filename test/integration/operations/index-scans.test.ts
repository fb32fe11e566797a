/**
 * The statement pieces the claims share (store/index-scans.ts): the limit written into the text,
 * refused unless a positive whole number, and the distinct values of an indexed column read one
 * probe each (a loose index scan), however many rows hold each value.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { distinctValues, literalLimit } from '../../../src/store/index-scans.ts';
import { ParleyError } from '../../../src/lib/errors.ts';
import { rowsWorked, scansOf, statementPlan } from '../../support/plans.ts';

const s = freshSchemaPerTest();

describe('literalLimit', () => {
  it('writes a positive whole number into the text and refuses anything else, naming the rows', async () => {
    const rows = await sql<{ n: number }>`SELECT g AS n FROM generate_series(1, 10) g LIMIT ${literalLimit(3, 'messages')}`.execute(s.db);
    expect(rows.rows.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(sql`LIMIT ${literalLimit(500, 'replies')}`.compile(s.db).sql).toBe('LIMIT 500');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      let thrown: unknown;
      try {
        literalLimit(bad, 'replies');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ParleyError);
      expect((thrown as ParleyError).code).toBe('invalid_limit');
      expect((thrown as ParleyError).message).toContain(`a claim takes a positive whole number of replies, not ${bad}`);
    }
  });
});

describe('distinctValues', () => {
  it('returns each value once, in order, reading a row per value, not per row', async () => {
    await sql`CREATE TABLE scan_items (id int PRIMARY KEY, owner text, state text NOT NULL)`.execute(s.db);
    await sql`CREATE INDEX scan_items_open ON scan_items (owner) WHERE state = 'open'`.execute(s.db);
    // 30,000 open rows over three owners and rows with no owner; closed rows of a fourth owner.
    await sql`
      INSERT INTO scan_items (id, owner, state)
      SELECT g, CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN 'b' WHEN 2 THEN 'a' ELSE 'c' END, 'open' FROM generate_series(1, 40000) g
      UNION ALL SELECT 40000 + g, 'closed-only', 'closed' FROM generate_series(1, 1000) g`.execute(s.db);
    await sql`ANALYZE scan_items`.execute(s.db);
    const query = sql<{ owner: string }>`
      WITH RECURSIVE ${distinctValues('o', 'scan_items', 'owner', sql`state = 'open'`)}
      SELECT owner FROM o WHERE owner IS NOT NULL`;
    expect((await query.execute(s.db)).rows.map((r) => r.owner)).toEqual(['a', 'b', 'c']);
    // No parameters, so no generic plan apart from this one. A probe per value and one that finds
    // none: 4 rows, where a DISTINCT reads 30,000.
    expect(rowsWorked(await statementPlan(s.db, query, false), scansOf('scan_items'))).toBeLessThanOrEqual(10);
    await sql`DELETE FROM scan_items WHERE owner IS NOT NULL`.execute(s.db);
    expect((await query.execute(s.db)).rows).toEqual([]);
  });
});
