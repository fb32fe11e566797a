/**
 * The hot path's batch statements are planned generic from their first run on a connection.
 *
 * Each batch statement binds its rows as arrays hidden from the planner (batch-array.ts), so a
 * custom plan of it is the generic plan made again. Postgres still makes five of them per prepared
 * statement per connection before it keeps the generic one (plan_cache_mode `auto`), plus one for
 * the statement's first, unprepared run (repeated-statements.ts), and the big statements take
 * about a millisecond to plan. On a daemon's ten connections that is hundreds of plans in its first
 * seconds under load, while its own code is still being compiled. Measured with
 * `npm run bench:two-way` (10 s at 1,000 replies/s from the daemon's start, pg_stat_statements
 * with track_planning): 994-1,148 plans and 0.43-0.47 s of planning before, 579-591 plans and
 * 0.26-0.27 s with this; `npm run bench -- --no-two-way --binds 1`: 272-291 plans and 0.15-0.16 s,
 * then 205-212 and 0.10 s.
 *
 * Only statements whose text starts with GENERIC_PLAN are planned generic. A generic plan cannot use
 * a partial index (`WHERE status = 'queued'`) for `status = $1`, so a statement that compares such
 * a column with a parameter needs its custom plans. The marked statements find their rows by the
 * keys in their arrays (and by primary keys), and their generic plans are the ones that already ran
 * once each connection had made its five custom plans.
 *
 * plan_cache_mode is a session setting: it is set on the connection when a marked statement comes
 * after an unmarked one with parameters, and reset (to what the server or the role sets) at the
 * reverse change. Statements without parameters (BEGIN, COMMIT, ANALYZE) are planned the same
 * either way and change nothing; a function one of them calls plans its own queries with whatever
 * the session has (Parley's, reassembly_lock and reassembly_unseen, look rows up by key only). In
 * the two-way bench those changes were 255 of 16,174 statements, nearly all around the periodic
 * claims and sweeps. The webhook deliveries written in a marked statement's transaction are marked
 * too, so that a transaction does not change the setting twice.
 */
import type pg from 'pg';
import { sql } from 'kysely';

/** A statement whose text starts with this (after white space) is planned generic (see above). */
export const GENERIC_PLAN_MARK = '/* parley: generic plan */';

/** GENERIC_PLAN_MARK for the start of a statement built with kysely's `sql`. */
export const GENERIC_PLAN = sql.raw(`${GENERIC_PLAN_MARK} `);

// Anchored: only the white space before the mark is read, not the statement.
const MARKED = /^\s*\/\* parley: generic plan \*\//;

/** Whether a statement's text asks for a generic plan. */
export const isMarkedGeneric = (text: string): boolean => MARKED.test(text);

/**
 * The text and the values of a `query` call in any of its forms: (text, values), a config object
 * ({ text, values }) or a submittable such as a cursor, which carries both.
 */
function statementOf(args: readonly unknown[]): { text?: string; values?: readonly unknown[] } {
  const [first, second] = args;
  if (typeof first === 'string') return { text: first, values: Array.isArray(second) ? second : undefined };
  if (typeof first === 'object' && first !== null) {
    const { text, values } = first as { text?: unknown; values?: unknown };
    if (typeof text === 'string') return { text, values: Array.isArray(values) ? values : Array.isArray(second) ? second : undefined };
  }
  return {};
}

// Transaction control, after any white space and comments.
const LEAD = String.raw`^(?:\s|/\*[\s\S]*?\*/|--[^\n]*(?:\n|$))*`;
const BEGIN = new RegExp(`${LEAD}(?:begin|start\\s+transaction)\\b`, 'i');
const SAVEPOINT = new RegExp(`${LEAD}(?:savepoint|release)\\b`, 'i');
const UNDOES = new RegExp(`${LEAD}(?:rollback|abort|prepare\\s+transaction)\\b`, 'i');
const ENDS = new RegExp(`${LEAD}(?:commit|end)\\b`, 'i');
/** ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] x: the transaction goes on. */
const TO_SAVEPOINT = new RegExp(`${LEAD}rollback(?:\\s+(?:work|transaction))?\\s+to\\b`, 'i');
/** COMMIT/ROLLBACK ... AND CHAIN: a new transaction begins at once. */
const AND_CHAIN = /\band\s+chain\s*;?\s*$/i;

/**
 * Wraps `client.query` so that statements marked GENERIC_PLAN run with plan_cache_mode
 * `force_generic_plan`, and every other statement with parameters with the session's own setting.
 * Only for connections that keep their session: not through a pooler in transaction mode
 * (`database.generic_plans: false`). Call once per client, when the pool connects it.
 */
export function planBatchesGeneric(client: pg.ClientBase): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // Whether this wrapper set force_generic_plan on the session: false at connect (the session's
  // own setting), undefined when not known.
  let forced: boolean | undefined = false;
  // A SET or RESET made in a transaction is undone if the transaction rolls back, and a COMMIT of a
  // transaction that failed rolls it back: after such a transaction the setting is not known. A
  // rollback of any kind makes it not known in any case (rare, and a transaction begun where this
  // wrapper could not see it is then covered too).
  let inTransaction = false;
  let changedInTransaction = false;
  const set = (want: boolean): void => {
    forced = want;
    if (inTransaction) changedInTransaction = true;
    // Sent before the statement that needs it, on the same connection, so Postgres runs the two in
    // that order. A SET fails only with its connection or in a transaction that already failed,
    // where the statement behind it fails as well (its caller is told); the setting is then not
    // known, and the next statement sets it again.
    (query(want ? 'SET plan_cache_mode = force_generic_plan' : 'RESET plan_cache_mode') as Promise<unknown>).catch(() => {
      forced = undefined;
    });
  };
  const control = (text: string): void => {
    if (BEGIN.test(text)) {
      // A BEGIN inside a transaction only warns: the transaction, and what it changed, go on.
      inTransaction = true;
    } else if (SAVEPOINT.test(text)) {
      // Nothing is undone yet.
    } else if (UNDOES.test(text)) {
      forced = undefined;
      if (!TO_SAVEPOINT.test(text)) {
        inTransaction = AND_CHAIN.test(text);
        changedInTransaction = false;
      }
    } else if (ENDS.test(text)) {
      if (changedInTransaction) forced = undefined;
      inTransaction = AND_CHAIN.test(text);
      changedInTransaction = false;
    }
  };
  const wrapped = (...args: unknown[]): unknown => {
    const { text, values } = statementOf(args);
    if (text !== undefined) {
      if (values !== undefined && values.length > 0) {
        const want = isMarkedGeneric(text);
        if (forced !== want) set(want);
      } else {
        control(text);
      }
    }
    return query(...args);
  };
  (client as unknown as { query: typeof wrapped }).query = wrapped;
}
