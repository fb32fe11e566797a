/**
 * Claims of queued messages: who works on which message, taken over from dead daemons, released
 * at start-up, handed back when this daemon cannot send them, and held ones released when due.
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Db } from './db.ts';
import type { MessagesTable } from './tables.ts';
import { attemptsOf } from './messages.ts';
import { distinctValues, literalLimit } from './index-scans.ts';
import type { RoutedMessage, UnfinishedMessage } from '../domain/routed-message.ts';

/**
 * Gives up this consumer name's queued messages: at start-up they can only be left over from an
 * earlier run under the same name, and released they are claimed like anyone else's.
 */
export async function releaseOwned(db: Db, owner: string): Promise<number> {
  const res = await db.updateTable('messages').set({ owner: null }).where('owner', '=', owner).where('status', '=', 'queued').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** The columns a claim returns of a queued message. */
const QUEUED_COLUMN_NAMES = [
  'id', 'to_addr', 'from_addr', 'body', 'route', 'priority', 'dlr', 'validity_seconds',
  'conversation', 'replies', 'metadata', 'reply_to', 'expires_at',
] as const satisfies readonly (keyof MessagesTable)[];

/** A queued message's columns, as the claims return them (typed by the messages table itself). */
type QueuedRow = Pick<Selectable<MessagesTable>, (typeof QUEUED_COLUMN_NAMES)[number]>;

const QUEUED_COLUMNS = sql.raw(QUEUED_COLUMN_NAMES.join(', '));

/** A claimed row as the dispatcher takes it: its answer link and expiry included, whichever claim took it. */
function routedMessageOf(r: QueuedRow): RoutedMessage {
  return {
    id: r.id,
    to: r.to_addr,
    from: r.from_addr ?? undefined,
    text: r.body,
    route: r.route,
    dlr: r.dlr,
    validitySeconds: r.validity_seconds ?? undefined,
    priority: r.priority as RoutedMessage['priority'],
    conversation: (r.conversation as RoutedMessage['conversation']) ?? undefined,
    replies: (r.replies as RoutedMessage['replies']) ?? undefined,
    metadata: r.metadata ?? undefined,
    ...(r.expires_at === null ? {} : { expiresAt: r.expires_at }),
    ...(r.reply_to === null ? {} : { replyTo: r.reply_to }),
  };
}

/**
 * The owners of queued messages that are gone (no heartbeat within `deadAfterMs`), never `self`
 * (its own are in its dispatcher already, whatever its heartbeat says). The owners are read by one
 * probe each of messages_queued, whose first column is the owner (a loose index scan), so the
 * claim then reads only the messages it takes over. Filtering every queued message by its owner's
 * heartbeat read the whole backlog on every run: 1 s per run at 230,000 queued messages, every
 * second on every daemon, while a live daemon was working through them.
 */
async function goneOwners(db: Db, self: string, deadAfterMs: number): Promise<string[]> {
  const owners = await sql<{ owner: string }>`
    WITH RECURSIVE ${distinctValues('o', 'messages', 'owner', sql`status = 'queued'`)}
    SELECT owner FROM o WHERE owner IS NOT NULL`.execute(db);
  if (owners.rows.length === 0) return [];
  const live = await sql<{ name: string }>`
    SELECT name FROM daemons WHERE heartbeat_at > now() - make_interval(secs => ${deadAfterMs / 1000})`.execute(db);
  const alive = new Set(live.rows.map((r) => r.name));
  return owners.rows.map((r) => r.owner).filter((o) => o !== self && !alive.has(o));
}

/** The order messages are claimed in, by default: highest priority, then oldest. */
const BEST_FIRST = sql`priority DESC, created_at`;

/**
 * The queued messages a claim may take where `which` says, in `order`, locked with SKIP LOCKED.
 * The limit is written into the text (literalLimit).
 */
function claimable(which: RawBuilder<unknown>, routeFilter: RawBuilder<unknown>, limit: number, order: RawBuilder<unknown> = BEST_FIRST): RawBuilder<unknown> {
  return sql`(SELECT id, priority, created_at, send_at FROM messages
      WHERE status = 'queued' AND ${which} ${routeFilter}
      ORDER BY ${order}
      LIMIT ${literalLimit(limit, 'messages')}
      FOR UPDATE SKIP LOCKED)`;
}

/**
 * Makes `owner` the owner of the first `limit` of `candidates` (claimable's columns) in `order`,
 * and returns `columns` of them in that order. The rows are updated by id, from an array: joined
 * with the candidates (IN), they were read by a scan of every message whenever the planner
 * expected the whole limit to be claimed.
 */
function claimStatement<Row>(owner: string, candidates: RawBuilder<unknown>, limit: number, order: RawBuilder<unknown>, columns: RawBuilder<unknown>, returning = columns): RawBuilder<Row> {
  return sql<Row>`
    WITH claimed AS (
      UPDATE messages SET owner = ${owner}, updated_at = now()
      WHERE id = ANY (ARRAY(SELECT id FROM (${candidates}) c ORDER BY ${order} LIMIT ${literalLimit(limit, 'messages')}))
      RETURNING ${returning}, created_at, send_at)
    -- In the claim's order: an update returns its rows in the order it found them.
    SELECT ${columns} FROM claimed ORDER BY ${order}`;
}

const routesFilter = (routes: readonly string[] | undefined): RawBuilder<unknown> =>
  routes === undefined ? sql`` : sql`AND route IN (${sql.join(routes.map((r) => sql`${r}`))})`;

/**
 * claimUnfinished's statement: unowned messages that are not held, from their own partial index
 * (`messages_unowned`, migration 0027), and those of the `gone` owners, from `messages_queued`
 * one owner at a time, ranked together. Held messages wait for claimDue (the daemon's clock); once
 * one claimed them, they are like any other (a dead owner's are taken over). Written as one
 * filter, `owner IS NULL OR owner = ANY (...)`, the claim read every scheduled message and,
 * planned on estimates of thousands of unowned queued messages, often every queued one (16-32 ms
 * a call at 100,000 of each, see 0027).
 */
export function claimUnfinishedQuery(owner: string, gone: readonly string[], limit: number, routes?: readonly string[]): RawBuilder<QueuedRow & { attempts: number; smsc: string | null }> {
  const routeFilter = routesFilter(routes);
  const unowned = claimable(sql`owner IS NULL AND send_at IS NULL`, routeFilter, limit);
  // Locking clauses are not allowed in a UNION's arms, only in sub-selects below them.
  const candidates =
    gone.length === 0
      ? unowned
      : sql`SELECT u.id, u.priority, u.created_at, u.send_at FROM ${unowned} u UNION ALL
          SELECT g.id, g.priority, g.created_at, g.send_at FROM unnest(${[...gone]}::text[]) AS o(owner) CROSS JOIN LATERAL ${claimable(sql`owner = o.owner`, routeFilter, limit)} g`;
  return claimStatement(owner, candidates, limit, BEST_FIRST, sql`${QUEUED_COLUMNS}, attempts, smsc`, sql`${QUEUED_COLUMNS}, ${attemptsOf('messages')} AS attempts, smsc`);
}

/**
 * Takes over queued messages nobody live is working on: unowned ones and those of daemons whose
 * heartbeat stopped. A live daemon's own (this one's included) are never taken, so claiming in a
 * loop never hands out a message twice. SKIP LOCKED lets several daemons claim at once.
 */
export async function claimUnfinished(
  db: Db,
  owner: string,
  deadAfterMs: number,
  limit: number,
  /** Only messages of these routes (the routes this daemon can send on now); all when absent. */
  routes?: readonly string[],
): Promise<UnfinishedMessage[]> {
  if (routes !== undefined && routes.length === 0) return [];
  const gone = await goneOwners(db, owner, deadAfterMs);
  const claimed = await claimUnfinishedQuery(owner, gone, limit, routes).execute(db);
  if (claimed.rows.length === 0) return [];
  // A segment the SMSC accepted stays accepted when its receipt has come since (delivered, ...):
  // it is not sent again.
  const accepted = await db
    .selectFrom('segments')
    .select(['message_id', 'seq'])
    .where('message_id', 'in', claimed.rows.map((r) => r.id))
    .where('status', '<>', 'failed')
    .execute();
  const acceptedBy = new Map<string, Set<number>>();
  for (const a of accepted) {
    let set = acceptedBy.get(a.message_id);
    if (!set) acceptedBy.set(a.message_id, (set = new Set()));
    set.add(a.seq);
  }
  return claimed.rows.map((r) => ({
    message: routedMessageOf(r),
    attempts: r.attempts,
    smsc: r.smsc,
    acceptedSegments: acceptedBy.get(r.id) ?? new Set<number>(),
  }));
}

/**
 * claimDue's statement: held messages that are due and unowned, from their own partial index
 * (`messages_held_unowned`, migration 0028). Through an index of every held message, each call
 * read the due messages already claimed and not yet sent before those it took: releasing a
 * scheduled campaign cost more with every batch.
 */
export function claimDueQuery(owner: string, now: Date, limit: number, routes?: readonly string[]): RawBuilder<QueuedRow> {
  const order = sql`send_at, priority DESC`;
  const due = claimable(sql`send_at IS NOT NULL AND send_at <= ${now} AND owner IS NULL`, routesFilter(routes), limit, order);
  return claimStatement(owner, due, limit, order, QUEUED_COLUMNS);
}

/**
 * Takes held messages whose time has come by `now` (the daemon's clock, injectable in tests):
 * unowned queued messages with a `send_at` at or before it. SKIP LOCKED and the owner set in the
 * same statement keep two daemons from releasing one message twice.
 */
export async function claimDue(
  db: Db,
  owner: string,
  now: Date,
  limit: number,
  /** Only messages of these routes (the routes this daemon can send on now); all when absent. */
  routes?: readonly string[],
): Promise<RoutedMessage[]> {
  if (routes !== undefined && routes.length === 0) return [];
  const res = await claimDueQuery(owner, now, limit, routes).execute(db);
  return res.rows.map(routedMessageOf);
}

/**
 * Gives queued messages back (owner cleared) so a daemon that can send them claims them: this
 * daemon took them in from the shared stream but holds no bind lease for their route's SMSCs.
 */
export async function handBack(db: Db, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db
    .updateTable('messages')
    .set({ owner: null })
    .where('owner', '=', owner)
    .where('status', '=', 'queued')
    .where('id', 'in', [...ids])
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
