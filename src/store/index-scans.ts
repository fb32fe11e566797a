/**
 * Statement pieces that make Postgres read an index only as far as a statement needs: a limit it
 * plans for, and the distinct values of an indexed column found one probe each.
 */
import { sql, type RawBuilder } from 'kysely';
import { ParleyError } from '../lib/errors.ts';

/**
 * `limit` written into the statement's text, for a LIMIT: a generic plan takes a LIMIT parameter
 * for a tenth of the rows it expects, and chose on that to read every row the filter allows (every
 * queued message, every reply not handled) and sort them. Only a positive whole number is written;
 * `what` names the rows in the error (`a claim takes ... of messages`).
 */
export function literalLimit(limit: number, what: string): RawBuilder<unknown> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ParleyError('invalid_limit', `a claim takes a positive whole number of ${what}, not ${limit}`);
  return sql.lit(limit);
}

/**
 * A recursive CTE `name(column)` of the distinct values of `column` among the rows of `table`
 * where `where` holds (unqualified columns of `table`), found by a loose index scan: one probe of
 * an index that starts with `column` (and whose predicate `where` implies) for each value, then
 * a NULL row that ends the recursion (callers read `WHERE column IS NOT NULL`). Postgres has no
 * skip scan: a DISTINCT or GROUP BY reads every row, and these tables hold a row per message or
 * delivery for a handful of values (daemons, webhooks). Use after WITH RECURSIVE. Write `where`
 * with constants, not parameters, where the index is partial: a generic plan cannot prove that
 * `status = $1` implies the index's predicate.
 */
export function distinctValues(name: string, table: string, column: string, where: RawBuilder<boolean>): RawBuilder<unknown> {
  const [cte, t, col] = [sql.id(name), sql.id(table), sql.id(column)];
  return sql`${cte}(${col}) AS (
      (SELECT ${col} FROM ${t} WHERE ${where} AND ${col} IS NOT NULL ORDER BY ${col} LIMIT 1)
      UNION ALL
      SELECT (SELECT x.${col} FROM ${t} x WHERE ${where} AND x.${col} > n.${col} ORDER BY x.${col} LIMIT 1)
      FROM ${cte} n WHERE n.${col} IS NOT NULL)`;
}
