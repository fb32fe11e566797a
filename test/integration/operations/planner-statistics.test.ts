/**
 * A hot table that has rows but was never analyzed is analyzed once, by one daemon; tables below
 * the threshold, and tables analyzed before, are left to autovacuum.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { analyzeUnmeasuredTables } from '../../../src/store/planner-statistics.ts';

let s: TestSchema;
beforeEach(async () => {
  s = await freshSchema();
});
afterEach(async () => {
  await s.drop();
});

const analyzedAt = async (table: string): Promise<Date | null> =>
  (
    await sql<{ at: Date | null }>`SELECT last_analyze AS at FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ${table}`.execute(s.db)
  ).rows[0]?.at ?? null;

describe('analyzeUnmeasuredTables', () => {
  it('analyzes a never-analyzed table once it has the rows, and never again', async () => {
    const messages = Array.from({ length: 60 }, (_, i) => ({ id: `m${i}`, to: `+1415555${String(i).padStart(4, '0')}`, text: 'hi', route: 'default', dlr: true, priority: 0 as const }));
    await insertMessages(s.db, 'd1', messages);
    // Below the threshold: nothing (however long the counters take to show the rows).
    expect(await analyzeUnmeasuredTables(s.db, 1_000)).toEqual([]);
    // Backends publish their row counts about once a second: wait for the 60 inserts to show.
    let analyzed: string[] = [];
    await vi.waitFor(
      async () => {
        analyzed = analyzed.length > 0 ? analyzed : await analyzeUnmeasuredTables(s.db, 50);
        expect(analyzed).toContain('messages');
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(await analyzedAt('messages')).toBeInstanceOf(Date);
    const stats = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'messages'`.execute(s.db);
    expect(Number(stats.rows[0]!.n)).toBeGreaterThan(0);
    // Analyzed once: the next run leaves it to autovacuum.
    expect(await analyzeUnmeasuredTables(s.db, 50)).not.toContain('messages');
  });
});
