/**
 * The daemons table: each running daemon's heartbeat, and declaring dead the ones whose heartbeat
 * stopped so their work can be taken over.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';

/** Writes the daemon's heartbeat; true when its row had to be created (first beat, or declared dead meanwhile). */
export async function heartbeat(db: Db, name: string, host: string, pid: number): Promise<boolean> {
  const res = await sql<{ created: boolean }>`
    INSERT INTO daemons (name, host, pid) VALUES (${name}, ${host}, ${pid})
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), host = excluded.host, pid = excluded.pid
    RETURNING (xmax = 0) AS created`.execute(db);
  return res.rows[0]?.created === true;
}

/** The process holding a daemon name, and how old its heartbeat is; undefined when none does. */
export async function readDaemon(db: Db, name: string): Promise<{ host: string; pid: number; heartbeatAgeMs: number } | undefined> {
  const row = await sql<{ host: string; pid: number; age_ms: number }>`
    SELECT host, pid, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms FROM daemons WHERE name = ${name}`.execute(db);
  const r = row.rows[0];
  return r ? { host: r.host, pid: r.pid, heartbeatAgeMs: Number(r.age_ms) } : undefined;
}

/**
 * Declares dead the daemons (other than `self`) whose heartbeat is older than `deadAfterMs` and
 * returns their names.
 * Each dead daemon is returned to exactly one caller (its row is deleted as it is returned), which
 * takes over its stream entries; its queued messages become anyone's to claim.
 */
export async function takeOverDead(db: Db, self: string, deadAfterMs: number): Promise<string[]> {
  const res = await sql<{ name: string }>`
    DELETE FROM daemons WHERE name <> ${self} AND heartbeat_at < now() - make_interval(secs => ${deadAfterMs / 1000}) RETURNING name`.execute(db);
  return res.rows.map((r) => r.name);
}

export async function removeDaemon(db: Db, name: string): Promise<void> {
  await db.deleteFrom('daemons').where('name', '=', name).execute();
}

/** Daemons whose heartbeat is fresher than `deadAfterMs`. */
export async function countLiveDaemons(db: Db, deadAfterMs: number): Promise<number> {
  const row = await db
    .selectFrom('daemons')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('heartbeat_at', '>', sql<Date>`now() - make_interval(secs => ${deadAfterMs / 1000})`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface DaemonRow {
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  /** Seconds since its last heartbeat, by Postgres's clock. */
  readonly heartbeatAgeSeconds: number;
  /** Queued messages it owns now. */
  readonly ownedQueued: number;
}

/** Every daemon of the heartbeat table, freshest first, with the queued messages each owns. */
export async function listDaemons(db: Db): Promise<DaemonRow[]> {
  const rows = await sql<{ name: string; host: string; pid: number; age: string; owned: string }>`
    SELECT d.name, d.host, d.pid, extract(epoch FROM now() - d.heartbeat_at)::text AS age,
      (SELECT count(*) FROM messages m WHERE m.owner = d.name AND m.status = 'queued')::text AS owned
    FROM daemons d ORDER BY d.heartbeat_at DESC`.execute(db);
  return rows.rows.map((r) => ({ name: r.name, host: r.host, pid: r.pid, heartbeatAgeSeconds: Number(r.age), ownedQueued: Number(r.owned) }));
}
