import { sql, type Kysely } from 'kysely';

/**
 * The reassembly locks as two functions, so that both ways of storing customer messages take them
 * by one piece of SQL (store/reassembly-locks.ts):
 * - `reassembly_lock`: the schema's lock (shared, or exclusive for a batch of more parts than it
 *   locks one by one), then the parts' own in the order given (ascending). A transaction of parts
 *   of longer messages takes them with its BEGIN.
 * - `reassembly_unseen`: takes them, then returns the fingerprints that no part received within the
 *   duplicate window has. A statement's own snapshot is taken before it waits for a lock, so a check
 *   in the statement would miss a part another daemon committed while it waited; a volatile
 *   function's queries each take a fresh one, so this check, made after the locks, sees it. With it
 *   a batch of whole customer messages is stored by one statement (one round trip, no transaction
 *   of its own) instead of BEGIN with the locks, the statement and COMMIT.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION reassembly_lock(schema_lock integer, exclusive boolean, lock_ids bigint[])
    RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
    BEGIN
      IF exclusive THEN
        PERFORM pg_advisory_xact_lock(schema_lock, hashtext(current_schema()));
      ELSE
        PERFORM pg_advisory_xact_lock_shared(schema_lock, hashtext(current_schema()));
        PERFORM pg_advisory_xact_lock(k) FROM unnest(lock_ids) AS k;
      END IF;
    END
    $fn$`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION reassembly_unseen(schema_lock integer, exclusive boolean, lock_ids bigint[],
      fingerprints text[], window_seconds double precision)
    RETURNS SETOF text LANGUAGE plpgsql VOLATILE ROWS 50 AS $fn$
    BEGIN
      PERFORM reassembly_lock(schema_lock, exclusive, lock_ids);
      -- Lateral, one index lookup per part: as NOT EXISTS the planner may hash every part of the
      -- duplicate window instead, a scan that grows with the traffic (store/replies.ts).
      RETURN QUERY SELECT f.fingerprint FROM unnest(fingerprints) AS f(fingerprint)
        LEFT JOIN LATERAL (
          SELECT true AS seen FROM inbound_parts p
          WHERE p.fingerprint = f.fingerprint AND p.received_at > now() - make_interval(secs => window_seconds)
          LIMIT 1) s ON true
        WHERE s.seen IS NULL;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS reassembly_unseen(integer, boolean, bigint[], text[], double precision)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS reassembly_lock(integer, boolean, bigint[])`.execute(db);
}
