/**
 * Planner statistics for tables Parley is filling.
 *
 * Autovacuum analyzes a table only at its naptime (a minute by default) once enough rows changed.
 * Until then Postgres plans every statement on a table it has never measured, and the hot path's
 * batched statements get sequential scans and hash joins whose cost grows with the table: on a
 * fresh database a receipt's lookup by carrier id read every submit of its SMSC (measured: 1.9 ms
 * per receipt at 1,300 submits, against 6 µs once analyzed), and each batch's status update read
 * all of `messages`. A table on those paths that holds rows but was never analyzed is therefore
 * analyzed at once.
 *
 * The hot statements are prepared (repeated-statements.ts), and Postgres keeps a prepared
 * statement's generic plan until the statistics of a table it reads change. Where autovacuum is
 * off (this project's CI Postgres), or lags far behind, nothing changes them: a plan made while
 * `segments` had 7,000 rows (a hash join over a scan of the table, the cheapest then) would scan
 * it whole for every receipt batch at a million. So a hot table is analyzed again each time it has
 * doubled since it was last analyzed: a plan is never made for a table less than half its size,
 * and a table of a million rows is analyzed about eleven times on its way there. Autovacuum
 * analyzes after a tenth has changed, so where it runs this does nothing.
 *
 * These analyzes sample 3,000 rows (statistics target 10), not Postgres's 30,000: what the hot
 * statements' plans need is the table's size and its keys' distinctness, which a small sample
 * gives. Measured on 30,000 receipts: 17 ms against 217 ms. Over the first 30,000 messages of a
 * fresh database (`npm run bench`) the re-analyzes cost Postgres 0.4 s, against 1.1–1.9 s at the
 * default target (40–63 µs a message). A column with its own statistics target keeps it, and
 * autovacuum's or an operator's ANALYZE samples in full as before.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';

/**
 * The tables the outbound and inbound paths look rows up in, per batch. The opt-out tables too:
 * every intake batch and every batch of replies reads them (opt-outs.ts blockedAmong), and a
 * generic plan made while opt_outs held a few thousand rows scans it whole (twice) instead of
 * looking each pair up, a plan kept until something invalidates it.
 */
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
  'opt_outs',
  'opt_out_hashes',
];

/** An arbitrary constant ("STAT" in ASCII): one daemon analyzes a table at a time. */
const ANALYZE_LOCK = 0x53544154;

/** Rows sampled are 300 times this (see above). */
export const STATISTICS_TARGET = 10;

/**
 * Analyzes each hot-path table of the current schema that has at least `minRows` rows written and
 * was never analyzed (by anyone: autovacuum, an operator, or this), or that has twice the rows it
 * had when it was last analyzed. Returns the tables analyzed. A table another daemon is analyzing
 * is skipped (it is done by then or next time).
 */
export async function analyzeStaleTables(db: Db, minRows: number): Promise<string[]> {
  const due = await sql<{ relname: string }>`
    SELECT t.relname FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
    WHERE t.schemaname = current_schema() AND t.relname = ANY (${[...HOT_PATH_TABLES]}::text[])
      AND CASE WHEN t.last_analyze IS NULL AND t.last_autoanalyze IS NULL THEN t.n_tup_ins >= ${minRows}
        ELSE t.n_live_tup >= 2 * greatest(c.reltuples, ${minRows}) END
    ORDER BY t.relname`.execute(db);
  const analyzed: string[] = [];
  for (const { relname } of due.rows) {
    const done = await db.transaction().execute(async (tx) => {
      const lock = await sql<{ ok: boolean }>`
        SELECT pg_try_advisory_xact_lock(${ANALYZE_LOCK}, hashtext(current_schema() || '.' || ${relname})) AS ok`.execute(tx);
      if (!lock.rows[0]?.ok) return false;
      await analyzeSampled(tx, [relname]);
      return true;
    });
    if (done) analyzed.push(relname);
  }
  return analyzed;
}

/**
 * ANALYZE of these tables in the caller's transaction, sampling as this job does (STATISTICS_TARGET;
 * the setting ends with the transaction).
 */
export async function analyzeSampled(tx: Transaction<Database>, tables: readonly string[]): Promise<void> {
  await sql`SET LOCAL default_statistics_target = ${sql.lit(STATISTICS_TARGET)}`.execute(tx);
  for (const table of tables) await sql`ANALYZE ${sql.table(table)}`.execute(tx);
}
