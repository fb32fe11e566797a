/**
 * A batch's array parameter, written `(SELECT $n::type[])::type[]` so that Postgres plans the statement
 * without knowing how long the array is.
 *
 * The hot statements are prepared (repeated-statements.ts). For a prepared statement Postgres makes
 * five custom plans, which see the parameters' values, then keeps its generic plan, which does not,
 * unless the custom plans cost less on average. A bare `$n::text[]` shows its length to custom
 * plans only: 1 under light load, where each batch holds one message, against the 10 rows a
 * generic plan assumes. So the custom plan always looked cheaper, and every execution was planned
 * again. Measured at 50 replies/s (`npm run bench:two-way -- --rate 50`, pg_stat_statements with
 * track_planning): 1.7–2.2 s of planning against 1.3–1.5 s of execution in 10 s, the receipts
 * statement alone 1.2 ms a plan. Behind a sub-select the length is unknown to both plans, their
 * costs are equal, and the generic plan is kept: 0.5–0.7 s of planning in the same run.
 *
 * In `unnest(a, b, …)` the rows are estimated from the longest array, so hiding the first one is
 * enough. A plan made for 10 rows joins by index lookups, which is also what a batch of 500 wants
 * (the 30,000-message `npm run bench` and the two-way bench at 1,000/s did not change).
 */
import { sql, type RawBuilder } from 'kysely';

export type ArrayType = 'text[]' | 'bigint[]' | 'smallint[]' | 'integer[]' | 'boolean[]' | 'timestamptz[]' | 'bytea[]';

export function batchArray(values: readonly unknown[], type: ArrayType): RawBuilder<unknown> {
  // The cast after the sub-select keeps `= ANY (…)` an array comparison: `ANY ((SELECT …))` would
  // read the sub-select's rows instead.
  const t = sql.raw(type);
  return sql`(SELECT ${values}::${t})::${t}`;
}
