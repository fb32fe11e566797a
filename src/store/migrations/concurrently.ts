/**
 * Building indexes on live tables. `CREATE INDEX CONCURRENTLY` takes no lock that blocks writes
 * (a plain CREATE INDEX holds a SHARE lock for the whole build: on a table of millions of rows,
 * minutes without inserts or updates). It cannot run inside a transaction, so a migration that
 * uses it exports `transactional = false` and runs statement by statement (see MIGRATIONS in
 * index.ts); every statement in it must be safe to run again after a failure half-way.
 */
import { sql, type Kysely } from 'kysely';

/**
 * Creates the index `name` concurrently unless a valid one exists. A concurrent build that failed
 * (or was interrupted) leaves an INVALID index behind, which IF NOT EXISTS would keep: it is
 * dropped (concurrently) and built again.
 */
export async function createIndexConcurrently(db: Kysely<unknown>, name: string, definition: string, options: { unique?: boolean } = {}): Promise<void> {
  const create = options.unique ? sql`CREATE UNIQUE INDEX` : sql`CREATE INDEX`;
  const found = await sql<{ valid: boolean }>`
    SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass(${name})`.execute(db);
  if (found.rows[0]?.valid === true) return;
  if (found.rows[0]) await sql`DROP INDEX CONCURRENTLY IF EXISTS ${sql.id(name)}`.execute(db);
  // A concurrent build scans the table twice and waits for every older transaction in the
  // database; on a small table a plain build holds its lock for milliseconds and waits for nobody.
  const table = /^\s*(\w+)/.exec(definition)?.[1] ?? '';
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM (SELECT 1 FROM ${sql.id(table)} LIMIT ${SMALL_TABLE_ROWS}) t`.execute(db);
  if (Number(rows.rows[0]?.n ?? 0) < SMALL_TABLE_ROWS) {
    await sql`${create} IF NOT EXISTS ${sql.id(name)} ON ${sql.raw(definition)}`.execute(db);
    return;
  }
  await sql`${create} CONCURRENTLY IF NOT EXISTS ${sql.id(name)} ON ${sql.raw(definition)}`.execute(db);
}

/** Below this many rows an index is built the plain way (see createIndexConcurrently). */
export const SMALL_TABLE_ROWS = 10_000;

export async function dropIndexConcurrently(db: Kysely<unknown>, name: string): Promise<void> {
  await sql`DROP INDEX CONCURRENTLY IF EXISTS ${sql.id(name)}`.execute(db);
}
