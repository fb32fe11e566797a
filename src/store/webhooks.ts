/**
 * The webhook outbox: deliveries are written in the same transaction as the change they report,
 * then sent by a worker that claims due rows (SKIP LOCKED, so several daemons share the work),
 * retries with backoff, and records the outcome of the last attempt.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import { distinctValues } from './index-scans.ts';
import type { Database } from './tables.ts';
import type { OutboxEvent, DueDelivery } from '../domain/webhook-delivery.ts';

type Tx = Transaction<Database> | Db;

/**
 * A write and the webhook deliveries that report it, atomically: alone when no webhook is
 * configured (one statement is atomic by itself, so no BEGIN and COMMIT round trips on the hot
 * path), else in one transaction with `enqueue`.
 */
export async function withDeliveries<T>(
  db: Db,
  webhooks: readonly string[],
  write: (tx: Tx) => Promise<T>,
  enqueue: (tx: Tx, written: T) => Promise<void>,
): Promise<T> {
  if (webhooks.length === 0) return write(db);
  return db.transaction().execute(async (tx) => {
    const written = await write(tx);
    await enqueue(tx, written);
    return written;
  });
}

/**
 * One row per webhook and event, in that order, by one statement of arrays: the same text for every
 * batch (prepared, and planned generic like the statement beside it in the transaction), and no
 * limit on the rows, where a VALUES list of three parameters a row had to be cut at 1,000 rows.
 */
export async function enqueueDeliveries(tx: Tx, webhooks: readonly string[], events: readonly OutboxEvent[]): Promise<void> {
  if (webhooks.length === 0 || events.length === 0) return;
  const rows = webhooks.flatMap((webhook) => events.map((e) => ({ webhook, type: e.type, body: JSON.stringify(e.body) })));
  await sql`${GENERIC_PLAN}INSERT INTO webhook_deliveries (webhook, event_type, body)
    SELECT u.webhook, u.event_type, u.body::jsonb
    FROM unnest(${batchArray(rows.map((r) => r.webhook), 'text[]')}, ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.body)}::text[])
      WITH ORDINALITY AS u(webhook, event_type, body, n)
    ORDER BY u.n`.execute(tx);
}

/**
 * Claims due deliveries by pushing their next attempt past `leaseMs`: a daemon that dies while
 * sending leaves them to be tried again after the lease, by anyone.
 *
 * For each webhook of `free`, at most that many of its due deliveries (its free slots), and at
 * most `others` due deliveries of webhooks not in `free` (no longer configured: they are claimed
 * to be finished as failed). Per webhook, so a slow webhook's backlog never fills a claim and holds
 * up the deliveries of the others, and only what can be sent at once is leased.
 */
export async function claimDueDeliveries(
  db: Db,
  free: ReadonlyMap<string, number>,
  others: number,
  leaseMs: number,
): Promise<DueDelivery[]> {
  const res = await claimDueDeliveriesQuery(free, others, leaseMs).execute(db);
  return res.rows.map((r) => ({ id: r.id, webhook: r.webhook, eventType: r.event_type, body: r.body, attempts: r.attempts }));
}

/**
 * claimDueDeliveries' statement. Every webhook's due deliveries are read from
 * `webhook_deliveries_due_per_webhook` (webhook, next_attempt_at), one webhook at a time; the
 * webhooks no longer configured are found by a loose scan of that index (one probe per webhook
 * with deliveries pending). The ORDER BY names the webhook too, so that index is the one that
 * gives the order. Read by due time among every webhook's deliveries, a claim went through the
 * whole due backlog of a slow or failing webhook, for the others' and for the unconfigured ones'
 * (100,000 due: 24 ms a claim, and a claim follows each delivery that ends); the rows are updated
 * by id, from an array: joined with the claim (IN ... OR IN ...), they were read by a scan of
 * every delivery.
 */
export function claimDueDeliveriesQuery(
  free: ReadonlyMap<string, number>,
  others: number,
  leaseMs: number,
): RawBuilder<{ id: string; webhook: string; event_type: string; body: Record<string, unknown>; attempts: number }> {
  const names = [...free.keys()];
  const slots = names.map((n) => free.get(n)!);
  const dueOf = (webhook: RawBuilder<unknown>, limit: RawBuilder<unknown>): RawBuilder<unknown> => sql`(
      SELECT id, next_attempt_at FROM webhook_deliveries
      WHERE status = 'pending' AND webhook = ${webhook} AND next_attempt_at <= now()
      ORDER BY webhook, next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)`;
  return sql`
    WITH RECURSIVE ${distinctValues('pending', 'webhook_deliveries', 'webhook', sql`status = 'pending'`)}
    UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}), attempts = attempts + 1
    WHERE id = ANY (ARRAY(
      SELECT d.id FROM unnest(${names}::text[], ${slots}::int[]) AS w(name, slots)
      CROSS JOIN LATERAL ${dueOf(sql`w.name`, sql`w.slots`)} d
      UNION ALL
      SELECT o.id FROM (
        SELECT g.id, g.next_attempt_at FROM pending p CROSS JOIN LATERAL ${dueOf(sql`p.webhook`, sql`${others}::int`)} g
        WHERE p.webhook IS NOT NULL AND p.webhook <> ALL (${names}::text[])
        ORDER BY g.next_attempt_at
        LIMIT ${others}::int) o))
    RETURNING id, webhook, event_type, body, attempts`;
}

export async function finishDelivery(
  db: Db,
  id: string,
  outcome: { status: 'delivered' | 'failed' | 'pending'; httpStatus: number | null; error: string | null; retryAt?: Date },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: outcome.status,
      last_status: outcome.httpStatus,
      last_error: outcome.error,
      ...(outcome.status === 'pending' ? { next_attempt_at: outcome.retryAt ?? new Date() } : { finished_at: new Date() }),
    })
    .where('id', '=', id)
    .execute();
}
