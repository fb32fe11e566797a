/**
 * Queries for the outbound record. Every write here is a batch: the hot path never makes a round
 * trip per message (ARCHITECTURE.md "Performance shape").
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import type { MessageStatus } from '../domain/status.ts';
import type { StatusChange } from '../domain/events.ts';
import { blockedAmong } from './opt-outs.ts';
import { outboundTouches } from './conversations.ts';
import { withDeliveries } from './webhooks.ts';
import { applyReceipts, matchPendingLocking } from './receipts.ts';
import { appliedChange, applySubmitChanges, enqueueStatusWebhooks, settleMessages, type ChangedRow } from './status-changes.ts';
import { pendingNaming } from './receipt-keys.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import type { SegmentRecord } from '../domain/segment.ts';

type Tx = Transaction<Database> | Db;

export interface InsertOptions {
  readonly statusWebhooks?: readonly string[];
  /** Session window of a conversation an outbound message opens, when its payload sets none. */
  readonly conversationTtlSeconds?: number;
}

/** Used when neither the payload nor the config gives a session window. */
const DEFAULT_CONVERSATION_TTL_S = 86_400;

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Runs a batch insert that leaves out rows stored before by its own check (a lookup by the key),
 * without ON CONFLICT, whose speculative insertion writes one more WAL record per row (48 bytes). A row
 * its check could not see (the same key twice in the batch, or inserted meanwhile by another
 * transaction) fails the statement with a unique violation (23505): the batch then goes again
 * with ON CONFLICT (`racing`).
 */
async function withoutSpeculation<T>(write: (racing: boolean) => Promise<T>): Promise<T> {
  try {
    return await write(false);
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== '23505') throw err;
    return write(true);
  }
}

/** Why a message to an opted-out customer is refused (status `failed`). */
const OPTED_OUT = { errorCode: 'opted_out', errorReason: 'the customer opted out of messages from this number' } as const;

/**
 * Inserts new messages as queued (and messages refused before sending in their final state; the
 * row is their events, see row-events.ts) and their conversations, in one statement: one round
 * trip, no BEGIN and COMMIT, unless status webhooks need their deliveries in the same transaction.
 * The opt-outs are read by that statement too (opt-outs.ts blockedAmong): a message to an
 * opted-out customer is stored `failed` (opted_out) instead of queued, and a STOP committed
 * before the statement began always blocks it. Returns the ids actually inserted (an id already
 * present is an app's retry of the same message and is not sent again) and their status changes.
 */
export async function insertMessages(
  db: Db,
  owner: string,
  queued: readonly RoutedMessage[],
  refusedBefore: readonly { message: RoutedMessage; change: StatusChange }[] = [],
  options: InsertOptions = {},
): Promise<{ inserted: Set<string>; changes: StatusChange[] }> {
  if (queued.length === 0 && refusedBefore.length === 0) return { inserted: new Set(), changes: [] };
  const now = new Date();
  const rows = [
    ...queued.map((m) => ({ m, status: 'queued' as MessageStatus, change: undefined as StatusChange | undefined })),
    ...refusedBefore.map((r) => ({ m: r.message, status: r.change.status, change: r.change })),
  ];
  // The pairs whose opt-outs decide. Without a sender only a global opt-out can apply; it is
  // checked all the same.
  const checked = queued.filter((m) => !m.bypassOptOut).map((m) => ({ customer: m.to, ourNumber: m.from ?? '' }));
  // One array per column and unnest: a 500-row batch is 16 parameters, not 8,000, which keeps
  // both the query builder and Postgres's parser off the hot path.
  const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
  const touches = queued
    .filter((m) => m.from)
    .map((m) => ({
      customer: m.to,
      ourNumber: m.from!,
      ttlSeconds: m.conversation?.ttlSeconds ?? options.conversationTtlSeconds ?? DEFAULT_CONVERSATION_TTL_S,
      tags: m.conversation?.tags ?? {},
      messageId: m.id,
    }));
  // An id stored before (an app's retry) is left out by its own check (see withoutSpeculation):
  // the batch's ids looked up by the key, as `= ANY`. Written as NOT EXISTS, it was planned as a
  // hash anti-join that read the whole messages table at every batch while the table held less
  // than ~150,000 rows (4-67 ms a batch at 1,000-29,500 rows in the 30,000-message bench).
  const batchIds = rows.map(({ m }) => m.id);
  // A queued row of a blocked pair: refused with OPTED_OUT, never queued.
  const refuse = (column: RawBuilder<unknown>, refused: RawBuilder<unknown>): RawBuilder<unknown> =>
    sql`CASE WHEN b.customer IS NULL THEN ${column} ELSE ${refused} END`;
  const insert = (racing: boolean) => async (tx: Tx): Promise<{ inserted: Set<string>; changes: StatusChange[] }> => {
    const inserted = (
      await sql<{ id: string; status: MessageStatus }>`${GENERIC_PLAN}
        WITH blocked AS (${blockedAmong(checked)}
        ), inserted AS (
          INSERT INTO messages (id, to_addr, from_addr, body, route, priority, dlr, validity_seconds,
            conversation, replies, metadata, status, error_code, error_reason, owner, final_at, reply_to, original_payload,
            send_at, held_reason, survey, campaign, variant, expires_at)
          SELECT u.id, u.to_addr, u.from_addr, u.body, u.route, u.priority, u.dlr, u.validity_seconds,
            u.conversation::jsonb, u.replies::jsonb, u.metadata::jsonb, ${refuse(sql`u.status`, sql`'failed'`)},
            ${refuse(sql`u.error_code`, sql`${OPTED_OUT.errorCode}::text`)}, ${refuse(sql`u.error_reason`, sql`${OPTED_OUT.errorReason}::text`)},
            ${refuse(sql`u.owner`, sql`NULL`)}, ${refuse(sql`u.final_at`, sql`${now}::timestamptz`)}, u.reply_to,
            u.original_payload, u.send_at, u.held_reason, u.survey::jsonb, u.campaign, u.variant, u.expires_at
          FROM unnest(
            ${batchArray(batchIds, 'text[]')}, ${col(({ m }) => m.to)}::text[], ${col(({ m }) => m.from ?? null)}::text[],
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
            ${col(({ m }) => m.expiresAt ?? null)}::timestamptz[],
            ${col(({ m, status }) => status === 'queued' && !m.bypassOptOut)}::boolean[]
          ) WITH ORDINALITY AS u(id, to_addr, from_addr, body, route, priority, dlr, validity_seconds, conversation, replies,
            metadata, status, error_code, error_reason, owner, final_at, reply_to, original_payload, send_at, held_reason, survey, campaign, variant,
            expires_at, checks_opt_out, n)
          LEFT JOIN blocked b ON u.checks_opt_out AND b.customer = u.to_addr AND b.our_number = COALESCE(u.from_addr, '')
          ${racing ? sql`` : sql`WHERE u.id <> ALL (ARRAY(SELECT x.id FROM messages x WHERE x.id = ANY (${batchArray(batchIds, 'text[]')})))`}
          -- In the batch's order, whatever the join did: of one id twice in a batch the first is kept.
          ORDER BY u.n
          ${racing ? sql`ON CONFLICT (id) DO NOTHING` : sql``}
          RETURNING id, status
        )${touches.length > 0 ? sql`, ${outboundTouches(touches, sql`(SELECT id FROM inserted WHERE status = 'queued')`)}` : sql``}
        SELECT id, status FROM inserted`.execute(tx)
    ).rows;
    const statusOf = new Map(inserted.map((r) => [r.id, r.status]));
    // Each inserted row's events: queued; and for one refused (before sending, or here as opted
    // out), its final status too. An id already present (an app's retry) gets neither a row nor an
    // event. The row is their record (row-events.ts): none is stored.
    const changes: StatusChange[] = [];
    for (const { m, change } of rows) {
      const status = statusOf.get(m.id);
      if (status === undefined) continue;
      // The same id twice in one batch: inserted once, its events once.
      statusOf.delete(m.id);
      const facts = { route: m.route, metadata: m.metadata ?? null, at: now };
      changes.push({ id: m.id, status: 'queued', previous: null, ...facts });
      const refused = change ?? (status === 'queued' ? undefined : { id: m.id, status, previous: 'queued' as const, ...OPTED_OUT });
      if (refused) changes.push({ ...refused, previous: 'queued', ...facts });
    }
    return { inserted: new Set(inserted.map((r) => r.id)), changes };
  };
  const statusWebhooks = options.statusWebhooks ?? [];
  return withoutSpeculation((racing) =>
    withDeliveries(db, statusWebhooks, insert(racing), (tx, written) => enqueueStatusWebhooks(tx, written.changes, statusWebhooks)),
  );
}

/** Destination and text of the stored messages among `ids`. */
export async function storedContent(db: Db, ids: readonly string[]): Promise<Map<string, { to: string; text: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('messages').select(['id', 'to_addr', 'body']).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.id, { to: r.to_addr, text: r.body }]));
}

/**
 * A message's dispatch attempts, as SQL over the row aliased `alias`: those counted on the row
 * before migration 0015 plus its rows in dispatch_attempts.
 */
export function attemptsOf(alias: string): ReturnType<typeof sql<number>> {
  const id = sql.ref(`${alias}.id`);
  return sql<number>`(${sql.ref(`${alias}.attempts`)} + (SELECT count(*) FROM dispatch_attempts d WHERE d.message_id = ${id}))::int`;
}

/**
 * Counts a dispatch attempt before the first submit_sm of these messages leaves: one narrow row
 * each, appended (the message row is not rewritten).
 */
export async function markAttempted(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`${GENERIC_PLAN}INSERT INTO dispatch_attempts (message_id) SELECT unnest(${batchArray([...ids], 'text[]')})`.execute(db);
}

/** Takes back an attempt counted for messages none of whose segments left (a clean stop). */
export async function unmarkAttempted(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.transaction().execute(async (tx) => {
    const gone = await sql<{ message_id: string }>`
      DELETE FROM dispatch_attempts d USING (
        SELECT DISTINCT ON (a.message_id) a.ctid AS row
        FROM dispatch_attempts a JOIN messages m ON m.id = a.message_id AND m.status = 'queued'
        WHERE a.message_id = ANY (${batchArray([...ids], 'text[]')})
        ORDER BY a.message_id, a.counted_at DESC) x
      WHERE d.ctid = x.row
      RETURNING d.message_id`.execute(tx);
    const taken = new Set(gone.rows.map((r) => r.message_id));
    // An attempt counted on the row itself (before migration 0015).
    const rest = ids.filter((id) => !taken.has(id));
    if (rest.length === 0) return;
    await tx
      .updateTable('messages')
      .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
      .where('id', 'in', rest)
      .where('status', '=', 'queued')
      .where('attempts', '>', 0)
      .execute();
  });
}

/**
 * Records what the SMSC answered (each segment's carrier id or refusal) the moment it arrives, in a
 * short transaction of its own that takes no lock: one row per segment, one per attempt, and the
 * possible_duplicate flag on the message. Once committed, a `kill -9` no longer sends these
 * segments again (claimUnfinished counts them accepted). `recordSubmits` then matches early
 * receipts and applies the other status changes.
 *
 * `submitted`: changes to `submitted` of messages whose answers are all in `segments`, applied by
 * the same statement where they need nothing of recordSubmits (submittedWithAnswers says when).
 * Returns those applied; the others are recordSubmits' to apply.
 */
export async function recordAnswers(
  db: Db,
  segments: readonly SegmentRecord[],
  submitted: readonly StatusChange[] = [],
  statusWebhooks: readonly string[] = [],
): Promise<StatusChange[]> {
  if (segments.length === 0) return [];
  const col = <T>(f: (r: SegmentRecord) => T): T[] => segments.map(f);
  // The possible_duplicate flag goes on the message, where apps read it (status, events,
  // webhooks), before recordSubmits changes its status so that their events carry it.
  const flagged = new Set(segments.filter((r) => r.possibleDuplicate).map((r) => r.messageId));
  const changing = submitted.filter((c) => c.status === 'submitted' && c.previous === 'queued' && !flagged.has(c.id));
  // One statement, so one implicit transaction and one round trip: the segments, one row per
  // attempt, the flag and the status changes (a data-modifying CTE runs whether or not the query
  // reads it). A segment sent again is updated and a new one inserted (see withoutSpeculation).
  const write = (racing: boolean) => async (tx: Tx): Promise<StatusChange[]> => {
    const changed = await sql<ChangedRow>`${GENERIC_PLAN}
    WITH answers AS (
      SELECT u.message_id, u.seq, u.total, u.smsc, u.bind, u.smsc_message_id, u.match_key, u.command_status, u.status,
        u.attempts, u.possible_duplicate, u.submitted_at, u.responded_at
      FROM unnest(
        ${batchArray(col((r) => r.messageId), 'text[]')}, ${col((r) => r.seq)}::smallint[], ${col((r) => r.total)}::smallint[],
        ${col((r) => r.smsc)}::text[], ${col((r) => r.bind)}::text[], ${col((r) => r.smscMessageId)}::text[],
        ${col((r) => r.matchKey)}::text[], ${col((r) => r.commandStatus)}::integer[], ${col((r) => r.status)}::text[],
        ${col((r) => r.attempts)}::smallint[], ${col((r) => r.possibleDuplicate)}::boolean[],
        ${col((r) => r.submittedAt)}::timestamptz[], ${col((r) => r.respondedAt)}::timestamptz[])
        AS u(message_id, seq, total, smsc, bind, smsc_message_id, match_key, command_status, status, attempts,
          possible_duplicate, submitted_at, responded_at)
    ), ${racing ? upsertSegments : sql`${resentSegments}, ${newSegments}`}, attempted AS (
      -- Every attempt is kept with its carrier id: a receipt for any copy matches (see matchReceipts).
      -- The attempt number counts on from those stored, so it survives restarts.
      INSERT INTO submit_attempts (message_id, seq, attempt, smsc, bind, smsc_message_id, match_key, command_status,
        possible_duplicate, submitted_at, responded_at)
      SELECT a.message_id, a.seq,
        COALESCE((SELECT max(p.attempt) FROM submit_attempts p WHERE p.message_id = a.message_id AND p.seq = a.seq), 0)
          + row_number() OVER (PARTITION BY a.message_id, a.seq ORDER BY a.submitted_at),
        a.smsc, a.bind, a.smsc_message_id, a.match_key, a.command_status, a.possible_duplicate, a.submitted_at, a.responded_at
      FROM answers a
    ), flagged AS (
      UPDATE messages SET possible_duplicate = true WHERE id = ANY (${batchArray([...flagged], 'text[]')}) AND NOT possible_duplicate
    )${racing || changing.length === 0 ? sql`` : sql`, ${submittedWithAnswers(changing)}`}
    SELECT ${racing || changing.length === 0 ? sql`NULL::text AS id WHERE false` : sql`id, route, metadata, delivered_segments, segments, smsc, submitted_at, possible_duplicate FROM submitted`}`.execute(tx);
    const at = new Date();
    const byId = new Map(changed.rows.map((r) => [r.id, r]));
    return changing.flatMap((c) => {
      const row = byId.get(c.id);
      return row ? [appliedChange(c, row, at)] : [];
    });
  };
  return withoutSpeculation((racing) =>
    withDeliveries(db, statusWebhooks, write(racing), (tx, applied) => enqueueStatusWebhooks(tx, applied, statusWebhooks)),
  );
}

/**
 * CTEs of recordAnswers that mark `changes`' messages submitted, each where nothing but this
 * statement can have touched its parts: every part of it is a segment this statement inserts (so
 * no receipt can have been matched to one: its carrier id is stored by this statement), and no
 * pending receipt names any of their carrier ids (a receipt that came before its answer, for
 * recordSubmits to match and settle under the message's row lock). A receipt stored while this
 * statement runs misses the answers and is missed by it: the rematch sweep matches it, as it
 * would one that raced recordSubmits (receipts.ts). `submitted` returns the rows changed.
 */
function submittedWithAnswers(changes: readonly StatusChange[]): RawBuilder<unknown> {
  const ids = changes.map((c) => c.id);
  return sql`early AS (
      SELECT DISTINCT a.message_id FROM answers a
      -- A lateral of its own with LIMIT: one lookup of receipts_pending_keys per key (see pendingMatch).
      CROSS JOIN LATERAL (SELECT 1 FROM receipts r2 WHERE ${pendingNaming('r2', sql`a.smsc`, sql`a.match_key`)} LIMIT 1) p
      -- Only the answers of messages whose change is offered: no other needs the lookup.
      WHERE a.match_key IS NOT NULL AND a.message_id = ANY (${batchArray(ids, 'text[]')})
    ), ready AS (
      SELECT v.id, v.smsc, v.segments, max(a.responded_at) AS submitted_at
      FROM unnest(${batchArray(ids, 'text[]')}, ${changes.map((c) => c.smsc ?? null)}::text[],
        ${changes.map((c) => c.segments ?? null)}::smallint[]) AS v(id, smsc, segments)
      JOIN stored s ON s.message_id = v.id
      JOIN answers a ON a.message_id = s.message_id AND a.seq = s.seq
      WHERE NOT EXISTS (SELECT 1 FROM early e WHERE e.message_id = v.id)
      GROUP BY v.id, v.smsc, v.segments
      HAVING count(*) = v.segments AND bool_and(a.status = 'accepted')
    ), submitted AS (
      UPDATE messages AS m SET status = 'submitted', smsc = r.smsc, segments = r.segments, owner = NULL, updated_at = now(),
        submitted_at = r.submitted_at
      FROM ready r
      -- Not '=' (see changeMessagesFrom): the rows come by id, never from the partial index of queued messages.
      WHERE m.id = r.id AND m.status IS NOT DISTINCT FROM 'queued'::text
      RETURNING m.id, m.route, m.metadata, m.delivered_segments, m.segments, m.smsc, m.submitted_at, m.possible_duplicate
    )`;
}

const SEGMENT_COLUMNS = sql`message_id, seq, total, smsc, bind, smsc_message_id, match_key, command_status,
  status, attempts, possible_duplicate, submitted_at, responded_at`;
const ANSWER_VALUES = sql`a.message_id, a.seq, a.total, a.smsc, a.bind, a.smsc_message_id, a.match_key, a.command_status,
  a.status, a.attempts, a.possible_duplicate, a.submitted_at, a.responded_at`;

/** The segments of `answers` not stored yet, inserted (a CTE of recordAnswers). */
const newSegments = sql`stored AS (
      INSERT INTO segments (${SEGMENT_COLUMNS}) SELECT ${ANSWER_VALUES} FROM answers a
      WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.message_id = a.message_id AND s.seq = a.seq)
      RETURNING message_id, seq)`;

/** What a new answer sets on a segment stored before (`stored`), from the answer `a`. */
const answerSet = (stored: string, a: string) => {
  const [s, x] = [sql.raw(stored), sql.raw(a)];
  return sql`smsc = ${x}.smsc, bind = ${x}.bind, smsc_message_id = ${x}.smsc_message_id,
        match_key = ${x}.match_key, command_status = ${x}.command_status, status = ${x}.status,
        attempts = ${x}.attempts, possible_duplicate = ${s}.possible_duplicate OR ${x}.possible_duplicate,
        submitted_at = ${x}.submitted_at, responded_at = ${x}.responded_at`;
};

/** The segments of `answers` stored before (sent again), updated with this answer. */
const resentSegments = sql`resent AS (
      UPDATE segments s SET ${answerSet('s', 'a')}
      FROM answers a WHERE s.message_id = a.message_id AND s.seq = a.seq)`;

/** Both at once, for a batch that raced another writer of its segments. */
const upsertSegments = sql`stored AS (
      INSERT INTO segments (${SEGMENT_COLUMNS}) SELECT ${ANSWER_VALUES} FROM answers a
      ON CONFLICT (message_id, seq) DO UPDATE SET ${answerSet('segments', 'excluded')})`;

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
  /** Messages whose answers were recorded by an earlier call (their early receipts matched then). */
  answeredBefore: ReadonlySet<string> = new Set(),
): Promise<StatusChange[]> {
  if (segments.length === 0 && changes.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    // The answers were committed before this transaction began. A receipt inserted meanwhile, and
    // not committed when the lookup below runs, is matched by the rematch sweep (see
    // rematchPendingReceipts): no lock orders the two.
    const keys = segments
      .filter((s) => s.status === 'accepted' && s.matchKey !== null)
      .map((s) => ({ smsc: s.smsc, matchKey: s.matchKey!, messageId: s.messageId, seq: s.seq }));
    // Messages submitted without their answers in this batch or an earlier one of this recorder
    // (recovered after a crash between recording the answers and this): receipts that came
    // before those answers are matched by the keys stored with their attempts.
    const inBatch = new Set(segments.map((s) => s.messageId));
    const recovered = changes.filter((c) => c.status === 'submitted' && !inBatch.has(c.id) && !answeredBefore.has(c.id)).map((c) => c.id);
    if (recovered.length > 0) {
      const stored = await tx
        .selectFrom('submit_attempts')
        .select(['smsc', 'match_key', 'message_id', 'seq'])
        .where('message_id', 'in', recovered)
        .where('match_key', 'is not', null)
        .execute();
      for (const a of stored) keys.push({ smsc: a.smsc, matchKey: a.match_key!, messageId: a.message_id, seq: a.seq });
    }
    // The early receipts matched and, in the same statement, the row locks taken before the
    // status changes: a receipt batch settling the same messages waits for this transaction, or
    // this one for it (see lockMessages).
    const early = await matchPendingLocking(tx, keys, changes.map((c) => c.id));
    const touched = await applyReceipts(tx, early);
    const { applied, partlyFinal } = await applySubmitChanges(tx, changes, statusWebhooks);
    // A just-submitted message may be final already: its answers were committed before this
    // transaction, and a receipt may have matched them in between (or in an earlier run). Only
    // those with a part that has its final receipt are read to settle.
    for (const id of partlyFinal) touched.add(id);
    return [...applied, ...(await settleMessages(tx, touched, statusWebhooks, true))];
  });
}
