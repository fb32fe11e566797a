/**
 * Queries for the outbound record. Every write here is a batch: the hot path never makes a round
 * trip per message (ARCHITECTURE.md "Performance shape").
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { MessageStatus } from '../domain/status.ts';
import type { StatusEventFacts } from '../domain/events.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { blockedPairs } from './opt-outs.ts';
import { touchForOutbound } from './conversations.ts';
import { applyChanges, applyReceipts, enqueueStatusWebhooks, insertEvents, lockMatching, matchPendingReceipts, settleMessages } from './receipts.ts';

/** A validated message with the route it will take. */
export interface RoutedMessage extends OutboundMessage {
  readonly route: string;
  /** The reply this message answers (auto-replies and confirmations). */
  readonly replyTo?: string;
  /** Compliance confirmations go to a customer who just opted out. */
  readonly bypassOptOut?: boolean;
  /** The payload as the app sent it, when NUL or lone surrogates in it were replaced. */
  readonly originalPayload?: Buffer;
  /** Held until then (send_at, quiet hours): stored unowned and released by `claimDue`. */
  readonly hold?: { readonly until: Date; readonly reason: string };
}

export interface InsertOptions {
  readonly statusWebhooks?: readonly string[];
  /** Session window of a conversation an outbound message opens, when its payload sets none. */
  readonly conversationTtlSeconds?: number;
}

/** A status change, with what its event reports. */
export type StatusChange = StatusEventFacts;

/** One submit_sm's outcome as recorded: accepted with the carrier's id, or refused. */
export interface SegmentRecord {
  readonly messageId: string;
  readonly seq: number;
  readonly total: number;
  readonly smsc: string;
  readonly bind: string;
  readonly smscMessageId: string | null;
  /** The carrier id as receipts are matched by (see domain/smsc-message-id.ts). */
  readonly matchKey: string | null;
  readonly commandStatus: number | null;
  readonly status: 'accepted' | 'failed';
  readonly attempts: number;
  readonly possibleDuplicate: boolean;
  readonly submittedAt: Date;
  readonly respondedAt: Date;
}

/** A queued message found in Postgres, with what is already known of its segments. */
export interface UnfinishedMessage {
  readonly message: RoutedMessage;
  /** Dispatch attempts so far: above 0 means a submit may already have reached the SMSC. */
  readonly attempts: number;
  readonly smsc: string | null;
  readonly acceptedSegments: ReadonlySet<number>;
}

/** Used when neither the payload nor the config gives a session window. */
const DEFAULT_CONVERSATION_TTL_S = 86_400;

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Inserts new messages as queued (and messages refused before sending, such as opted-out ones, in
 * their final state) in one transaction. Returns the ids actually inserted: an id already present
 * is an app's retry of the same message and is not sent again.
 */
export async function insertMessages(
  db: Db,
  owner: string,
  queued: readonly RoutedMessage[],
  refusedBefore: readonly { message: RoutedMessage; change: StatusChange }[] = [],
  options: InsertOptions = {},
): Promise<{ inserted: Set<string>; changes: StatusChange[] }> {
  if (queued.length === 0 && refusedBefore.length === 0) return { inserted: new Set(), changes: [] };
  return db.transaction().execute(async (tx) => {
    const now = new Date();
    // Opt-outs are checked in the same transaction as the insert: a STOP committed before this
    // batch always blocks it.
    const blocked = await blockedPairs(
      tx,
      // Without a sender only a global opt-out can apply; it is checked all the same.
      queued.filter((m) => !m.bypassOptOut).map((m) => ({ customer: m.to, ourNumber: m.from ?? '' })),
    );
    const refused = [...refusedBefore];
    const sendable: RoutedMessage[] = [];
    for (const m of queued) {
      if (blocked.has(`${m.to}\0${m.from ?? ''}`)) {
        refused.push({
          message: m,
          change: { id: m.id, status: 'failed', previous: 'queued', errorCode: 'opted_out', errorReason: 'the customer opted out of messages from this number' },
        });
      } else sendable.push(m);
    }
    const rows = [
      ...sendable.map((m) => ({ m, status: 'queued' as MessageStatus, change: undefined as StatusChange | undefined })),
      ...refused.map((r) => ({ m: r.message, status: r.change.status, change: r.change })),
    ];
    // One array per column and unnest: a 500-row batch is 16 parameters, not 8,000, which keeps
    // both the query builder and Postgres's parser off the hot path.
    const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
    const inserted = (
      await sql<{ id: string }>`
        INSERT INTO messages (id, to_addr, from_addr, body, route, priority, dlr, validity_seconds,
          conversation, replies, metadata, status, error_code, error_reason, owner, final_at, reply_to, original_payload,
          send_at, held_reason, survey, campaign, variant, expires_at)
        SELECT u.id, u.to_addr, u.from_addr, u.body, u.route, u.priority, u.dlr, u.validity_seconds,
          u.conversation::jsonb, u.replies::jsonb, u.metadata::jsonb, u.status, u.error_code, u.error_reason, u.owner, u.final_at, u.reply_to,
          u.original_payload, u.send_at, u.held_reason, u.survey::jsonb, u.campaign, u.variant, u.expires_at
        FROM unnest(
          ${col(({ m }) => m.id)}::text[], ${col(({ m }) => m.to)}::text[], ${col(({ m }) => m.from ?? null)}::text[],
          ${col(({ m }) => m.text)}::text[], ${col(({ m }) => m.route)}::text[], ${col(({ m }) => m.priority)}::smallint[],
          ${col(({ m }) => m.dlr)}::boolean[], ${col(({ m }) => m.validitySeconds ?? null)}::integer[],
          ${col(({ m }) => json(m.conversation))}::text[], ${col(({ m }) => json(m.replies))}::text[],
          ${col(({ m }) => json(m.metadata))}::text[], ${col(({ status }) => status)}::text[],
          ${col(({ change }) => change?.errorCode ?? null)}::text[], ${col(({ change }) => change?.errorReason ?? null)}::text[],
          ${col(({ m, status }) => (status === 'queued' && m.hold === undefined ? owner : null))}::text[],
          ${col(({ status }) => (status === 'queued' ? null : now))}::timestamptz[],
          ${col(({ m }) => m.replyTo ?? null)}::text[], ${col(({ m }) => m.originalPayload ?? null)}::bytea[],
          ${col(({ m }) => m.hold?.until ?? null)}::timestamptz[], ${col(({ m }) => m.hold?.reason ?? null)}::text[],
          ${col(({ m }) => json(m.survey))}::text[], ${col(({ m }) => m.campaign?.id ?? null)}::text[], ${col(({ m }) => m.campaign?.variant ?? null)}::text[],
          ${col(({ m }) => m.expiresAt ?? null)}::timestamptz[]
        ) AS u(id, to_addr, from_addr, body, route, priority, dlr, validity_seconds, conversation, replies,
          metadata, status, error_code, error_reason, owner, final_at, reply_to, original_payload, send_at, held_reason, survey, campaign, variant, expires_at)
        ON CONFLICT (id) DO NOTHING
        RETURNING id`.execute(tx)
    ).rows;
    const ids = new Set(inserted.map((r) => r.id));
    const changes: StatusChange[] = [];
    for (const { m, change } of rows) {
      if (!ids.has(m.id)) continue;
      const facts = { route: m.route, metadata: m.metadata ?? null, at: now };
      changes.push({ id: m.id, status: 'queued', previous: null, ...facts });
      if (change) changes.push({ ...change, previous: 'queued', ...facts });
    }
    await insertEvents(tx, changes);
    await enqueueStatusWebhooks(tx, changes, options.statusWebhooks ?? []);
    await touchForOutbound(
      tx,
      sendable
        .filter((m) => ids.has(m.id) && m.from)
        .map((m) => ({
          customer: m.to,
          ourNumber: m.from!,
          ttlSeconds: m.conversation?.ttlSeconds ?? options.conversationTtlSeconds ?? DEFAULT_CONVERSATION_TTL_S,
          tags: m.conversation?.tags ?? {},
          messageId: m.id,
        })),
    );
    return { inserted: ids, changes };
  });
}

/** Destination and text of the stored messages among `ids`. */
export async function storedContent(db: Db, ids: readonly string[]): Promise<Map<string, { to: string; text: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('messages').select(['id', 'to_addr', 'body']).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.id, { to: r.to_addr, text: r.body }]));
}

/** Counts a dispatch attempt before the first submit_sm of these messages leaves. */
export async function markAttempted(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`UPDATE messages SET attempts = attempts + 1, updated_at = now() WHERE id = ANY (${[...ids]}::text[])`.execute(db);
}

/** Takes back an attempt counted for messages none of whose segments left (a clean stop). */
export async function unmarkAttempted(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('messages')
    .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
    .where('id', 'in', ids)
    .where('status', '=', 'queued')
    .where('attempts', '>', 0)
    .execute();
}

/**
 * Records what the SMSC answered (each segment's carrier id or refusal) the moment it arrives, in a
 * short transaction of its own that takes no lock: one row per segment, one per attempt, and the
 * possible_duplicate flag on the message. Once committed, a `kill -9` no longer sends these
 * segments again (claimUnfinished counts them accepted). `recordSubmits` then matches early
 * receipts and applies the status changes.
 */
export async function recordAnswers(db: Db, segments: readonly SegmentRecord[]): Promise<void> {
  if (segments.length === 0) return;
  await db.transaction().execute(async (tx) => {
    const col = <T>(f: (r: SegmentRecord) => T): T[] => segments.map(f);
    await sql`
      INSERT INTO segments (message_id, seq, total, smsc, bind, smsc_message_id, match_key, command_status,
        status, attempts, possible_duplicate, submitted_at, responded_at)
      SELECT * FROM unnest(
        ${col((r) => r.messageId)}::text[], ${col((r) => r.seq)}::smallint[], ${col((r) => r.total)}::smallint[],
        ${col((r) => r.smsc)}::text[], ${col((r) => r.bind)}::text[], ${col((r) => r.smscMessageId)}::text[],
        ${col((r) => r.matchKey)}::text[], ${col((r) => r.commandStatus)}::integer[], ${col((r) => r.status)}::text[],
        ${col((r) => r.attempts)}::smallint[], ${col((r) => r.possibleDuplicate)}::boolean[],
        ${col((r) => r.submittedAt)}::timestamptz[], ${col((r) => r.respondedAt)}::timestamptz[])
      ON CONFLICT (message_id, seq) DO UPDATE SET
        smsc = excluded.smsc, bind = excluded.bind, smsc_message_id = excluded.smsc_message_id,
        match_key = excluded.match_key, command_status = excluded.command_status, status = excluded.status,
        attempts = excluded.attempts, possible_duplicate = segments.possible_duplicate OR excluded.possible_duplicate,
        submitted_at = excluded.submitted_at, responded_at = excluded.responded_at`.execute(tx);
    // Every attempt is kept with its carrier id: a receipt for any copy matches (see matchReceipts).
    // The attempt number counts on from those stored, so it survives restarts.
    await sql`
      INSERT INTO submit_attempts (message_id, seq, attempt, smsc, bind, smsc_message_id, match_key, command_status,
        possible_duplicate, submitted_at, responded_at)
      SELECT u.message_id, u.seq,
        COALESCE((SELECT max(a.attempt) FROM submit_attempts a WHERE a.message_id = u.message_id AND a.seq = u.seq), 0)
          + row_number() OVER (PARTITION BY u.message_id, u.seq ORDER BY u.submitted_at),
        u.smsc, u.bind, u.smsc_message_id, u.match_key, u.command_status, u.possible_duplicate, u.submitted_at, u.responded_at
      FROM unnest(
        ${col((r) => r.messageId)}::text[], ${col((r) => r.seq)}::smallint[], ${col((r) => r.smsc)}::text[],
        ${col((r) => r.bind)}::text[], ${col((r) => r.smscMessageId)}::text[], ${col((r) => r.matchKey)}::text[],
        ${col((r) => r.commandStatus)}::integer[], ${col((r) => r.possibleDuplicate)}::boolean[],
        ${col((r) => r.submittedAt)}::timestamptz[], ${col((r) => r.respondedAt)}::timestamptz[])
        AS u(message_id, seq, smsc, bind, smsc_message_id, match_key, command_status, possible_duplicate, submitted_at, responded_at)`.execute(tx);
    // The flag goes on the message, where apps read it (status, events, webhooks), before the
    // status changes below so that their events carry it.
    const flagged = [...new Set(segments.filter((r) => r.possibleDuplicate).map((r) => r.messageId))];
    if (flagged.length > 0) {
      await sql`UPDATE messages SET possible_duplicate = true WHERE id = ANY (${flagged}::text[]) AND NOT possible_duplicate`.execute(tx);
    }
  });
}

/**
 * Applies the status changes submit outcomes cause, in one transaction, after their answers were
 * committed by `recordAnswers`. Receipts that arrived before those answers are matched now; a
 * message whose segments all have a final receipt by then moves on to its final status at once.
 * Only forward moves are applied; the changes actually applied are returned for the event stream.
 */
export async function recordSubmits(
  db: Db,
  segments: readonly SegmentRecord[],
  changes: readonly StatusChange[],
  statusWebhooks: readonly string[] = [],
): Promise<StatusChange[]> {
  if (segments.length === 0 && changes.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    // The answers were committed before this transaction began: whichever of it and a receipt's
    // transaction takes the lock second sees the other's rows (see lockMatching).
    await lockMatching(tx);
    const keys = segments
      .filter((s) => s.status === 'accepted' && s.matchKey !== null)
      .map((s) => ({ smsc: s.smsc, matchKey: s.matchKey!, messageId: s.messageId, seq: s.seq }));
    // Messages submitted without their answers in this batch (recovered after a crash between
    // recording the answers and this): receipts that came before those answers are matched by
    // the keys stored with their attempts.
    const inBatch = new Set(segments.map((s) => s.messageId));
    const recovered = changes.filter((c) => c.status === 'submitted' && !inBatch.has(c.id)).map((c) => c.id);
    if (recovered.length > 0) {
      const stored = await tx
        .selectFrom('submit_attempts')
        .select(['smsc', 'match_key', 'message_id', 'seq'])
        .where('message_id', 'in', recovered)
        .where('match_key', 'is not', null)
        .execute();
      for (const a of stored) keys.push({ smsc: a.smsc, matchKey: a.match_key!, messageId: a.message_id, seq: a.seq });
    }
    const early = await matchPendingReceipts(tx, keys);
    const touched = await applyReceipts(tx, early);
    const applied = await applyChanges(tx, changes, statusWebhooks);
    const submitted = applied.filter((c) => c.status === 'submitted').map((c) => c.id);
    if (submitted.length > 0) {
      // The response time of a customer's reply ends when the SMSC accepts its first answer.
      await sql`UPDATE replies AS r SET answer_submitted_at = now()
        FROM messages AS m
        WHERE m.id = ANY (${submitted}::text[]) AND m.reply_to IS NOT NULL AND r.id = m.reply_to AND r.answer_submitted_at IS NULL`.execute(tx);
    }
    // A just-submitted message may be final already: its answers were committed before this
    // transaction, and a receipt may have matched them in between (or in an earlier run).
    for (const c of applied) if (c.status === 'submitted') touched.add(c.id);
    return [...applied, ...(await settleMessages(tx, touched, statusWebhooks))];
  });
}

/**
 * Gives up this consumer name's queued messages: at start-up they can only be left over from an
 * earlier run under the same name, and released they are claimed like anyone else's.
 */
export async function releaseOwned(db: Db, owner: string): Promise<number> {
  const res = await db.updateTable('messages').set({ owner: null }).where('owner', '=', owner).where('status', '=', 'queued').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** A queued message's columns, as the claims return them. */
interface QueuedRow {
  id: string;
  to_addr: string;
  from_addr: string | null;
  body: string;
  route: string;
  priority: number;
  dlr: boolean;
  validity_seconds: number | null;
  conversation: Record<string, unknown> | null;
  replies: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  reply_to: string | null;
  expires_at: Date | null;
}

const QUEUED_COLUMNS = sql.raw('id, to_addr, from_addr, body, route, priority, dlr, validity_seconds, conversation, replies, metadata, reply_to, expires_at');

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
  const routeFilter = routes === undefined ? sql`` : sql`AND route IN (${sql.join(routes.map((r) => sql`${r}`))})`;
  const claimed = await sql<QueuedRow & { attempts: number; smsc: string | null }>`
    UPDATE messages SET owner = ${owner}, updated_at = now()
    WHERE id IN (
      SELECT id FROM messages
      WHERE status = 'queued'
        -- Held messages wait for claimDue (the daemon's clock); once one claimed them, they are
        -- like any other (a dead owner's are taken over).
        AND (send_at IS NULL OR owner IS NOT NULL)
        -- Never this daemon's own: they are in its dispatcher already, whatever its heartbeat says.
        AND (owner IS NULL OR (owner <> ${owner} AND owner NOT IN (
          SELECT name FROM daemons WHERE heartbeat_at > now() - make_interval(secs => ${deadAfterMs / 1000}))))
        ${routeFilter}
      ORDER BY priority DESC, created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING ${QUEUED_COLUMNS}, attempts, smsc`.execute(db);
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
  const routeFilter = routes === undefined ? sql`` : sql`AND route IN (${sql.join(routes.map((r) => sql`${r}`))})`;
  const res = await sql<QueuedRow>`
    UPDATE messages SET owner = ${owner}, updated_at = now()
    WHERE id IN (
      SELECT id FROM messages
      WHERE status = 'queued' AND send_at IS NOT NULL AND send_at <= ${now} AND owner IS NULL
        ${routeFilter}
      ORDER BY send_at, priority DESC
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING ${QUEUED_COLUMNS}`.execute(db);
  return res.rows.map(routedMessageOf);
}

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
