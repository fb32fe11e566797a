/**
 * A pool's connections opened before the pipelines take traffic. A new Postgres backend builds its
 * caches of the tables and indexes a statement touches the first time it plans one; a daemon that
 * starts under load (a restart or deploy with messages waiting) opened its pipeline connections in
 * its first second of traffic and paid that there, on the cores the work needed. Measured with
 * `npm run bench:two-way` (10 s at 1,000 replies/s from the daemon's start), alternated pairs:
 * opening the pipeline pool and the answers' connection first, p99 152-241 ms (median 173) against
 * 199-270 (median 213), lower in 5 of 5; four more pairs with the opening overlapping the rest of the
 * start, lower in 2, level in 1, higher in 1. The steady state is the same.
 *
 * The pool closes a connection idle for 10 s, so this helps a daemon that starts with work to do,
 * which is the start that hurts.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { HOT_PATH_TABLES } from './planner-statistics.ts';

/** Every hot table planned for a read that returns nothing: its relation and indexes enter the backend's caches. */
const READ_EVERY_HOT_TABLE = sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, ${sql.join(
  HOT_PATH_TABLES.map((t) => sql`(SELECT 1 FROM ${sql.table(t)} LIMIT 0)`),
)}`;

export interface WarmedConnections {
  /** The backends opened (or found open) and warmed, one per connection held. */
  readonly backends: readonly number[];
  /** Why the others could not be: the pool opens them on demand later, as it would have anyway. */
  readonly errors: readonly Error[];
}

/**
 * How long the connections opened are held for the others. A connection slow to open (up to the
 * pool's connect time-out) would otherwise keep the ones already open from the pipelines' first
 * statements; released sooner, the pool may open fewer, which costs only some of the gain.
 */
const HOLD_MAX_MS = 1_000;

/**
 * Opens `connections` of the pool at once (at most its size), each held until all are (or
 * HOLD_MAX_MS), so the pool keeps that many instead of reusing the first one released.
 */
export async function warmConnections(db: Db, connections: number): Promise<WarmedConnections> {
  if (connections <= 0) return { backends: [], errors: [] };
  let settled = 0;
  let releaseAll!: () => void;
  const allSettled = new Promise<void>((resolve) => (releaseAll = resolve));
  const holdLimit = setTimeout(releaseAll, HOLD_MAX_MS);
  const hold = async (): Promise<number> => {
    let counted = false;
    // A connection that failed to open counts too: the others must not wait for it.
    const settle = (): void => {
      if (counted) return;
      counted = true;
      if (++settled === connections) releaseAll();
    };
    try {
      return await db.connection().execute(async (conn) => {
        try {
          return (await READ_EVERY_HOT_TABLE.execute(conn)).rows[0]!.pid;
        } finally {
          settle();
          await allSettled;
        }
      });
    } finally {
      settle();
    }
  };
  const results = await Promise.allSettled(Array.from({ length: connections }, hold));
  clearTimeout(holdLimit);
  return {
    backends: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason : new Error(String(r.reason))] : [])),
  };
}
