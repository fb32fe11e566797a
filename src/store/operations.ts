/**
 * Queries for operating Parley (alerts, runtime control, retention) that read or change the
 * tables across the flows rather than within one.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.ts';
import type { StatusChange } from '../domain/events.ts';
import { attemptsOf } from './messages.ts';
import { applyChanges } from './status-changes.ts';
import { QUEUE_AGE_ERROR } from '../domain/queue-age.ts';
import { CANCELLED } from '../domain/status.ts';

/** oldestQueuedAgeSeconds' statement (its test reads the plan). */
export function oldestQueuedAgeQuery(): RawBuilder<{ age: string | null }> {
  return sql`SELECT extract(epoch FROM now() - min(COALESCE(send_at, created_at))) AS age FROM messages WHERE status = 'queued'`;
}

/**
 * Seconds the oldest queued message has waited since it could be sent: since it was accepted, or
 * since its time came when it was held (send_at: scheduled, quiet hours); 0 when none waits. A
 * message held until later is not late. One entry of messages_queued_since (migration 0029).
 */
export async function oldestQueuedAgeSeconds(db: Db): Promise<number> {
  const res = await oldestQueuedAgeQuery().execute(db);
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

export interface QueuedMessage {
  readonly id: string;
  readonly to: string;
  readonly route: string;
  readonly priority: number;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly attempts: number;
  readonly owner: string | null;
  readonly textLength: number;
}

/** Queued messages, oldest first (`parley queue list`); the text itself stays out. */
export async function listQueued(db: Db, options: { route?: string; limit: number }): Promise<QueuedMessage[]> {
  let q = db
    .selectFrom('messages')
    .select(['id', 'to_addr', 'route', 'priority', 'created_at', 'expires_at', 'owner'])
    .select(attemptsOf('messages').as('attempts'))
    .select(sql<number>`char_length(body)`.as('text_length'))
    .where('status', '=', 'queued');
  if (options.route !== undefined) q = q.where('route', '=', options.route);
  const rows = await q.orderBy('created_at').orderBy('id').limit(options.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    to: r.to_addr,
    route: r.route,
    priority: r.priority,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    attempts: r.attempts,
    owner: r.owner,
    textLength: Number(r.text_length),
  }));
}

/** Cancels queued messages: they become failed (error cancelled). Returns the changes applied. */
export async function cancelQueued(db: Db, ids: readonly string[], statusWebhooks: readonly string[] = []): Promise<StatusChange[]> {
  if (ids.length === 0) return [];
  return db.transaction().execute((tx) =>
    applyChanges(tx, ids.map((id) => ({ id, status: 'failed' as const, previous: 'queued' as const, ...CANCELLED })), statusWebhooks),
  );
}

/**
 * Ids cancelled in the last `withinMs`: every daemon drops them from its dispatch queues. Read
 * through messages_cancelled (migration 0025), whose predicate the code must appear in as a
 * literal: as a parameter, a generic plan could not use the partial index.
 */
export async function recentlyCancelled(db: Db, withinMs: number): Promise<string[]> {
  const rows = await recentlyCancelledQuery(withinMs).execute(db);
  return rows.rows.map((r) => r.id);
}

/** recentlyCancelled's statement (its test reads the plan). */
export function recentlyCancelledQuery(withinMs: number): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`
    SELECT id FROM messages
    WHERE error_code = ${sql.lit(CANCELLED.errorCode)} AND status = 'failed' AND final_at > now() - make_interval(secs => ${withinMs / 1000})`;
}

/** What a message was sent with, to send it again under a new id (`parley queue requeue`). */
export interface RequeueSource {
  readonly id: string;
  readonly status: string;
  readonly payload: Record<string, unknown>;
}

export async function requeueSources(db: Db, ids: readonly string[]): Promise<RequeueSource[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'status', 'to_addr', 'from_addr', 'body', 'route', 'priority', 'dlr', 'validity_seconds', 'conversation', 'replies', 'metadata'])
    .where('id', 'in', ids)
    .execute();
  return rows.map((r) => {
    const payload: Record<string, unknown> = { to: r.to_addr, text: r.body, route: r.route, priority: r.priority, dlr: r.dlr };
    if (r.from_addr !== null) payload.from = r.from_addr;
    if (r.validity_seconds !== null) payload.validity = r.validity_seconds;
    if (r.conversation !== null) {
      const c = r.conversation as { ttlSeconds?: number; tags?: Record<string, unknown> };
      payload.conversation = { ...(c.ttlSeconds !== undefined ? { ttl: c.ttlSeconds } : {}), tags: c.tags ?? {} };
    }
    if (r.replies !== null) payload.replies = r.replies;
    payload.metadata = { ...(r.metadata ?? {}), requeued_from: r.id };
    return { id: r.id, status: r.status, payload };
  });
}

export interface OptOutRow {
  readonly customer: string;
  readonly scope: string;
  readonly optedOut: boolean;
  readonly keyword: string | null;
  readonly changedAt: Date;
}

/** An operator's opt-out or opt-in (`parley opt-out add|remove`); true when it changed the state. */
export async function setOperatorOptOut(db: Db, customer: string, scope: string, optedOut: boolean): Promise<boolean> {
  const res = await sql<{ changed: boolean }>`
    INSERT INTO opt_outs (customer, scope, opted_out, keyword, reply_id)
    VALUES (${customer}, ${scope}, ${optedOut}, 'operator', NULL)
    ON CONFLICT (customer, scope) DO UPDATE SET opted_out = excluded.opted_out, keyword = excluded.keyword, reply_id = NULL, changed_at = now()
    WHERE opt_outs.opted_out IS DISTINCT FROM excluded.opted_out
    RETURNING true AS changed`.execute(db);
  return res.rows.length > 0;
}

export async function listOptOuts(db: Db, options: { customer?: string; limit: number }): Promise<OptOutRow[]> {
  let q = db.selectFrom('opt_outs').select(['customer', 'scope', 'opted_out', 'keyword', 'changed_at']).where('opted_out', '=', true);
  if (options.customer !== undefined) q = q.where('customer', '=', options.customer);
  const rows = await q.orderBy('changed_at', 'desc').limit(options.limit).execute();
  return rows.map((r) => ({ customer: r.customer, scope: r.scope, optedOut: r.opted_out, keyword: r.keyword, changedAt: r.changed_at }));
}
