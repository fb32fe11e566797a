/**
 * Queries for operating Parley (alerts, runtime control, retention) that read or change the
 * tables across the flows rather than within one.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { StatusChange } from './messages.ts';
import { applyChanges } from './receipts.ts';
import { QUEUE_AGE_ERROR } from '../domain/queue-age.ts';

/**
 * Seconds since the oldest still-queued message was accepted, 0 when none is queued. Reads the
 * partial index on queued messages, so its cost follows the queue, not the table.
 */
export async function oldestQueuedAgeSeconds(db: Db): Promise<number> {
  const res = await sql<{ age: string | null }>`
    SELECT extract(epoch FROM now() - min(created_at)) AS age FROM messages WHERE status = 'queued'`.execute(db);
  const age = Number(res.rows[0]?.age ?? 0);
  return Number.isFinite(age) && age > 0 ? age : 0;
}

/**
 * Expires queued messages past their expires_at (payload or route max_queue_age) that no
 * dispatcher caught first: those waiting for a bind, on a paused route, or of a stopped daemon.
 * `marginMs` leaves the moment itself to the dispatcher, which checks right before submitting,
 * so the two never race over a message being sent. Returns the changes for the event stream.
 */
export async function expireQueued(db: Db, limit: number, marginMs: number, statusWebhooks: readonly string[] = []): Promise<StatusChange[]> {
  return db.transaction().execute(async (tx) => {
    const due = await sql<{ id: string }>`
      SELECT id FROM messages
      WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at < now() - make_interval(secs => ${marginMs / 1000})
      ORDER BY expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`.execute(tx);
    return applyChanges(
      tx,
      due.rows.map((r) => ({ id: r.id, status: 'expired' as const, previous: 'queued' as const, ...QUEUE_AGE_ERROR })),
      statusWebhooks,
    );
  });
}

export type PauseKind = 'route' | 'smsc';

export interface Pause {
  readonly kind: PauseKind;
  readonly name: string;
  readonly pausedAt: Date;
  readonly reason: string | null;
}

/** Every route and SMSC paused at run time. */
export async function listPauses(db: Db): Promise<Pause[]> {
  const rows = await db.selectFrom('paused').select(['kind', 'name', 'paused_at', 'reason']).orderBy('kind').orderBy('name').execute();
  return rows.map((r) => ({ kind: r.kind as PauseKind, name: r.name, pausedAt: r.paused_at, reason: r.reason }));
}

/** Pauses (true) or resumes (false); says whether anything changed. */
export async function setPaused(db: Db, kind: PauseKind, name: string, paused: boolean, reason?: string): Promise<boolean> {
  if (paused) {
    const res = await db.insertInto('paused').values({ kind, name, reason: reason ?? null }).onConflict((oc) => oc.columns(['kind', 'name']).doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  const res = await db.deleteFrom('paused').where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
