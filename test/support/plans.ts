/**
 * The plans Postgres runs a statement with, for tests that check how much a hot statement reads
 * (not how long it takes, which these machines cannot promise): EXPLAIN ANALYZE of a statement
 * built by the store, custom (its values bound, as a statement not yet prepared is planned) or
 * generic (prepared by name with plan_cache_mode force_generic_plan: the plan a prepared statement
 * may settle on after its first runs, see store/repeated-statements.ts and generic-plans.ts).
 */
import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Db } from '../../src/store/db.ts';
import { arrayLiteral } from '../../src/store/array-parameters.ts';

/** A node of EXPLAIN (FORMAT JSON)'s plan, the fields these tests read. */
export interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/**
 * The plan of `query`, as it ran with EXPLAIN ANALYZE (or only as planned, `analyze: false`): in a
 * transaction rolled back (ANALYZE runs a data-modifying statement for real), on one connection.
 */
export function statementPlan(db: Db, query: RawBuilder<unknown>, generic: boolean, analyze = true): Promise<PlanNode> {
  const explain = analyze ? 'EXPLAIN (ANALYZE, FORMAT JSON)' : 'EXPLAIN (FORMAT JSON)';
  type Plan = { 'QUERY PLAN': { Plan: PlanNode }[] };
  return db.connection().execute(async (c) => {
    const compiled = query.compile(c);
    await sql`BEGIN`.execute(c);
    try {
      if (!generic) {
        const explained = await c.executeQuery<Plan>(CompiledQuery.raw(`${explain} ${compiled.sql}`, [...compiled.parameters]));
        return explained.rows[0]!['QUERY PLAN'][0]!.Plan;
      }
      await sql`SET LOCAL plan_cache_mode = force_generic_plan`.execute(c);
      await sql`PREPARE planned AS ${sql.raw(compiled.sql)}`.execute(c);
      try {
        const explained = await sql<Plan>`${sql.raw(explain)} EXECUTE planned (${executeValues(compiled.parameters)})`.execute(c);
        return explained.rows[0]!['QUERY PLAN'][0]!.Plan;
      } finally {
        await sql`DEALLOCATE planned`.execute(c);
      }
    } finally {
      await sql`ROLLBACK`.execute(c);
    }
  });
}

/** A compiled statement's parameters as EXECUTE takes them: literals, each array as Postgres reads it. */
export function executeValues(parameters: readonly unknown[]): RawBuilder<unknown> {
  return sql.join(parameters.map((p) => sql.lit(Array.isArray(p) ? arrayLiteral(p)! : p)));
}

/**
 * Rows the plan read through the nodes `counted` picks (a table's scans, say) or filtered out of
 * them, over all loops, and rows its joins compared and threw away: the work that grows with a
 * table, or with the square of a batch.
 */
export function rowsWorked(node: PlanNode, counted: (node: PlanNode) => boolean): number {
  const read = counted(node)
    ? (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)
    : 0;
  return read + (node['Rows Removed by Join Filter'] ?? 0) + (node.Plans ?? []).reduce((sum, child) => sum + rowsWorked(child, counted), 0);
}

/** For rowsWorked: the scans of `table`. */
export const scansOf =
  (table: string) =>
  (node: PlanNode): boolean =>
    node['Relation Name'] === table;
