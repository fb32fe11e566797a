/**
 * A hot table that has rows but was never analyzed is analyzed, by one daemon; tables below the
 * threshold are not. Once analyzed, a table is analyzed again only when it has twice the rows it
 * had then (so that prepared statements' generic plans never outlive the table size they were
 * made for where autovacuum is off), from a small sample. The opt-out tables, which every batch
 * reads, are among them.
 */
import { describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { analyzeStaleTables, STATISTICS_TARGET } from '../../../src/store/planner-statistics.ts';
import { blockedAmong, GLOBAL_SCOPE } from '../../../src/store/opt-outs.ts';
import { executeValues, rowsWorked, scansOf, type PlanNode } from '../../support/plans.ts';

const s = freshSchemaPerTest();

const analyzedAt = async (table: string): Promise<Date | null> =>
  (
    await sql<{ at: Date | null }>`SELECT last_analyze AS at FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ${table}`.execute(s.db)
  ).rows[0]?.at ?? null;

const batch = (from: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ id: `m${from + k}`, to: `+1415555${String(from + k).padStart(4, '0')}`, text: 'hi', route: 'default', dlr: true, priority: 0 as const }));

describe('analyzeStaleTables', () => {
  it('analyzes a never-analyzed table once it has the rows, and again when it has doubled', async () => {
    await insertMessages(s.db, 'd1', batch(0, 60));
    // Below the threshold: nothing (however long the counters take to show the rows).
    expect(await analyzeStaleTables(s.db, 1_000)).toEqual([]);
    // Backends publish their row counts about once a second: wait for the 60 inserts to show.
    let analyzed: string[] = [];
    await vi.waitFor(
      async () => {
        analyzed = analyzed.length > 0 ? analyzed : await analyzeStaleTables(s.db, 50);
        expect(analyzed).toContain('messages');
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(await analyzedAt('messages')).toBeInstanceOf(Date);
    const stats = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'messages'`.execute(s.db);
    expect(Number(stats.rows[0]!.n)).toBeGreaterThan(0);
    // Analyzed at 60 rows: not again below twice that.
    expect(await analyzeStaleTables(s.db, 50)).not.toContain('messages');
    await insertMessages(s.db, 'd1', batch(60, 50));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await analyzeStaleTables(s.db, 50)).not.toContain('messages');
    // 120 rows, twice what it had: analyzed again, and the statistics say so.
    await insertMessages(s.db, 'd1', batch(110, 10));
    await vi.waitFor(
      async () => {
        expect(await analyzeStaleTables(s.db, 50)).toContain('messages');
      },
      { timeout: 15_000, interval: 250 },
    );
    const measured = await sql<{ n: number }>`SELECT reltuples::int AS n FROM pg_class WHERE oid = 'messages'::regclass`.execute(s.db);
    expect(measured.rows[0]!.n).toBe(120);
    // A small sample (STATISTICS_TARGET): 120 distinct ids give a histogram of 11 bounds, where
    // Postgres's default target would give 101. The setting ends with the analyze's transaction.
    const bounds = await sql<{ n: number }>`
      SELECT array_length(histogram_bounds::text::text[], 1) AS n FROM pg_stats
      WHERE schemaname = current_schema() AND tablename = 'messages' AND attname = 'id'`.execute(s.db);
    expect(bounds.rows[0]!.n).toBe(STATISTICS_TARGET + 1);
    const target = await sql<{ t: string }>`SELECT current_setting('default_statistics_target') AS t`.execute(s.db);
    expect(target.rows[0]!.t).toBe('100');
  });
});

describe('the opt-out tables', () => {
  it('are analyzed as they grow, so that a prepared lookup of a batch’s opt-outs stops scanning them', async () => {
    const addOptOuts = (from: number, to: number) =>
      sql`INSERT INTO opt_outs (customer, scope, opted_out, keyword, reply_id)
        SELECT '+1999' || lpad(g::text, 7, '0'), CASE WHEN g % 2 = 0 THEN ${GLOBAL_SCOPE} ELSE '12345' END, true, 'STOP', 'r' || g
        FROM generate_series(${from}::int, ${to}::int) g`.execute(s.db);
    const analyzedOnce = async (table: string) =>
      vi.waitFor(
        async () => {
          expect(await analyzeStaleTables(s.db, 500)).toContain(table);
        },
        { timeout: 15_000, interval: 250 },
      );
    await addOptOuts(1, 3_000);
    await analyzedOnce('opt_outs');
    // A batch's lookup as intake and the reply batches make it, prepared and planned generic on one
    // connection, as a daemon's connection keeps it (repeated-statements.ts, generic-plans.ts).
    const pairs = Array.from({ length: 10 }, (_, i) => ({ customer: `+1415000000${i}`, ourNumber: '12345' }));
    const compiled = sql`${blockedAmong(pairs)}`.compile(s.db);
    const values = executeValues(compiled.parameters);
    await s.db.connection().execute(async (c) => {
      type Plan = { 'QUERY PLAN': { Plan: PlanNode }[] };
      const optOutsRead = async (): Promise<number> => {
        const explained = await sql<Plan>`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE blocked (${values})`.execute(c);
        return rowsWorked(explained.rows[0]!['QUERY PLAN'][0]!.Plan, scansOf('opt_outs'));
      };
      await sql`SET plan_cache_mode = force_generic_plan`.execute(c);
      await sql`PREPARE blocked AS ${sql.raw(compiled.sql)}`.execute(c);
      try {
        // At 3,000 opt-outs a scan looked cheaper than ten pairs' lookups: all of them read.
        expect(await optOutsRead()).toBeGreaterThanOrEqual(3_000);
        // Ten times as many: the plan is the one made at 3,000 until the table is analyzed again,
        // which the job does once it has doubled. Then the pairs are looked up: none is there.
        await addOptOuts(3_001, 30_000);
        await analyzedOnce('opt_outs');
        expect(await optOutsRead()).toBe(0);
      } finally {
        await sql`DEALLOCATE blocked`.execute(c);
        await sql`RESET plan_cache_mode`.execute(c);
      }
    });
  });
});
