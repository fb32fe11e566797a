/**
 * Planner statistics for tables Parley has just started filling.
 *
 * Autovacuum analyzes a table only at its naptime (a minute by default) once enough rows changed.
 * Until then Postgres plans every statement on a table it has never measured, and the hot path's
 * batched statements get sequential scans and hash joins whose cost grows with the table: on a
 * fresh database a receipt's lookup by carrier id read every submit of its SMSC (measured: 1.9 ms
 * per receipt at 1,300 submits, against 6 µs once analyzed), and each batch's status update read
 * all of `messages`. A table on those paths that holds rows but was never analyzed is therefore
 * analyzed at once. From then on autovacuum keeps its statistics current and this does nothing.
 * Where autovacuum is off (this project's CI Postgres) the first statistics stay; the planner
 * scales them by the table's size, but while a table is small (under ~30,000 rows measured) it
 * still joined a batch by hash over a scan of the table. The hot statements are prepared
 * (repeated-statements.ts) and their generic plans keep to the indexes.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';

/** The tables the outbound and inbound paths look rows up in, per batch. */
export const HOT_PATH_TABLES: readonly (keyof Database)[] = [
  'messages',
  'segments',
  'submit_attempts',
  'dispatch_attempts',
  'receipts',
  'message_events',
  'conversations',
  'replies',
  'inbound_parts',
  'webhook_deliveries',
];

/** An arbitrary constant ("STAT" in ASCII): one daemon analyzes a table at a time. */
const ANALYZE_LOCK = 0x53544154;

/**
 * Analyzes each hot-path table of the current schema that has at least `minRows` rows written and
 * was never analyzed (by anyone: autovacuum, an operator, or this). Returns the tables analyzed.
 * A table another daemon is analyzing is skipped (it is done by then or next time).
 */
export async function analyzeUnmeasuredTables(db: Db, minRows: number): Promise<string[]> {
  const due = await sql<{ relname: string }>`
    SELECT relname FROM pg_stat_user_tables
    WHERE schemaname = current_schema() AND relname = ANY (${[...HOT_PATH_TABLES]}::text[])
      AND last_analyze IS NULL AND last_autoanalyze IS NULL
      AND n_tup_ins >= ${minRows}
    ORDER BY relname`.execute(db);
  const analyzed: string[] = [];
  for (const { relname } of due.rows) {
    const done = await db.transaction().execute(async (tx) => {
      const lock = await sql<{ ok: boolean }>`
        SELECT pg_try_advisory_xact_lock(${ANALYZE_LOCK}, hashtext(current_schema() || '.' || ${relname})) AS ok`.execute(tx);
      if (!lock.rows[0]?.ok) return false;
      await sql`ANALYZE ${sql.table(relname)}`.execute(tx);
      return true;
    });
    if (done) analyzed.push(relname);
  }
  return analyzed;
}
