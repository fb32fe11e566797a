/**
 * Statements a connection sends again and again are prepared on it once. Every batch of the hot
 * path is the same text with other arrays bound (`unnest($1::text[], …)`), and Postgres parsed,
 * analysed and planned that text again for each one: at light load, batches of a few rows, that
 * was most of a backend's CPU (perf: the raw parser alone 5% of it; planning took a third of the
 * statements' time in `pg_stat_statements` with `track_planning`). A prepared statement skips the
 * parse and the analysis, and Postgres reuses a generic plan where it costs no more than the
 * custom ones (plan_cache_mode `auto`, its default).
 *
 * Which statements:
 * - only those sent with parameters (text and values, as kysely sends every query), and only once
 *   the same text has come `preparedAfter` times on this connection: a one-off (a migration, a
 *   report) is never prepared;
 * - never one whose result could change shape: a `*` in its text (`SELECT *`, `RETURNING *`; a
 *   `count(*)` aside). A prepared statement's result columns are fixed when it is prepared, so a
 *   column added by a migration while a daemon runs would fail it with "cached plan must not
 *   change result type"; an explicit column list is planned again after such a change instead;
 * - at most `maxPrepared` per connection, first come first kept: the hot statements are the ones
 *   that come back first, and a text built with a list of varying length (`IN ($1, $2, …)`) cannot
 *   fill a backend's memory with plans. Nothing is deallocated while the connection lives.
 */
import type pg from 'pg';

export interface RepeatedStatementOptions {
  /** Prepared the time it comes this many times on one connection. */
  readonly preparedAfter: number;
  /** At most this many prepared statements on one connection. */
  readonly maxPrepared: number;
}

export const REPEATED_STATEMENTS: RepeatedStatementOptions = { preparedAfter: 2, maxPrepared: 100 };

/** Texts counted per connection before they are forgotten (a bound on what one-offs cost). */
const SEEN_LIMIT = 1_000;

/**
 * Whether a statement's result columns cannot change while it stays prepared (see above). SQL
 * comments are not the statement: a `*` in one (`-- not v.*`) kept the receipts' statement, the
 * hot path's biggest, from ever being prepared, so Postgres planned it again for every batch.
 */
export function hasFixedResult(text: string): boolean {
  const code = text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return !code.replace(/count\s*\(\s*\*\s*\)/gi, '').includes('*');
}

/**
 * Wraps `client.query` so that repeated statements (see above) go as named prepared statements;
 * every other call, and every other form of call (a config object, a cursor), goes through as
 * it came. Call once per client, when the pool connects it.
 */
export function prepareRepeatedStatements(client: pg.ClientBase, options: RepeatedStatementOptions = REPEATED_STATEMENTS): void {
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const nameOf = (text: string): string | undefined => {
    const known = names.get(text);
    if (known !== undefined) return known;
    if (names.size >= options.maxPrepared || !hasFixedResult(text)) return undefined;
    const count = (seen.get(text) ?? 0) + 1;
    if (count < options.preparedAfter) {
      if (seen.size >= SEEN_LIMIT) seen.clear();
      seen.set(text, count);
      return undefined;
    }
    seen.delete(text);
    // Names are per connection: a counter is unique on it, and short on the wire.
    const name = `parley_${names.size + 1}`;
    names.set(text, name);
    return name;
  };
  const prepared = (...args: unknown[]): unknown => {
    const [text, values] = args;
    if (args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      const name = nameOf(text);
      if (name !== undefined) return query({ name, text, values });
    }
    return query(...args);
  };
  (client as unknown as { query: typeof prepared }).query = prepared;
}
