/**
 * Planner statistics for the tables Parley is filling (see store/planner-statistics): checked
 * every second, so a fresh install's hot tables are measured seconds after the first traffic
 * instead of after autovacuum's first naptime, and measured again as they double where autovacuum
 * does not.
 */
import { PeriodicJob } from '../lib/periodic-job.ts';
import type { Db } from '../store/db.ts';
import { analyzeStaleTables } from '../store/planner-statistics.ts';
import type { DaemonContext } from './context.ts';

/** Rows written to a table before it is worth measuring: below this any plan is cheap. */
const MIN_ROWS = 500;
const INTERVAL_MS = 1_000;

export function wirePlannerStatistics(ctx: DaemonContext, db: Db): PeriodicJob {
  const log = ctx.log.child({ component: 'planner_statistics' });
  return new PeriodicJob({
    name: 'planner_statistics',
    task: 'analyzing tables whose planner statistics are missing or outgrown',
    intervalMs: INTERVAL_MS,
    run: async () => {
      const analyzed = await analyzeStaleTables(db, MIN_ROWS);
      if (analyzed.length > 0) log.info({ tables: analyzed }, 'analyzed tables that had no planner statistics yet, or twice the rows of their last');
    },
    logger: log,
    onFailure: ctx.countFailure,
  });
}
