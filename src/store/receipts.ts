/**
 * Receipts in Postgres: stored as they come (a resend of the same receipt is recognised by its
 * fingerprint and changes nothing), matched to the segment they report on through the key of the
 * carrier's id, and applied forward only. A receipt whose segment is not known yet stays pending
 * and is matched the moment the submit's response is recorded, by whichever daemon records it.
 *
 * No lock orders the two sides: a receipt inserted while its segment's answer is being recorded
 * can miss that answer (uncommitted when the insert looked) while the recorder misses the receipt
 * (uncommitted when it looked). The receipt then stays pending with its segment committed, and
 * `rematchPendingReceipts` (pending-receipts.ts), run by every daemon every fraction of a second,
 * matches it. Matching is idempotent (only a receipt still pending is matched; applying is forward
 * only), so nothing serialises receipt batches across daemons.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import type { StatusEventFacts as StatusChange } from '../domain/events.ts';
import { SEGMENT_FINAL_ORDER, settleStatus, type MessageStatus, type SegmentFinalStatus } from '../domain/status.ts';
import { RECEIPT_ERROR_PREFIX, changeMessagesFrom, enqueueStatusWebhooks, lockMessages, lockingMessages, settleMessages, settledError } from './status-changes.ts';
import type { NewReceipt } from '../domain/receipt.ts';
import { withDeliveries } from './webhooks.ts';
import { pendingNaming, stillPending } from './receipt-keys.ts';

type Tx = Transaction<Database> | Db;

/** A receipt matched to its segment, as applyReceipts takes it. */
export interface MatchedReceipt {
  readonly receiptId: string;
  readonly messageId: string;
  readonly seq: number;
  readonly state: string;
  readonly segmentStatus: SegmentFinalStatus | null;
  readonly errorCode: string | null;
  readonly networkError: string | null;
}

/**
 * The submit a receipt reports on, from the SMSC and the receipt's keys (best first), for a
 * lateral join: every carrier id the segment's submits ever got is a row of submit_attempts; the
 * best key wins, then the latest submit. One lookup, for receipts as they are inserted and for
 * those matched again later (and, in an EXISTS, for which pending receipts an answer names now).
 */
export function attemptByKeys(smsc: RawBuilder<unknown>, keys: RawBuilder<unknown>): RawBuilder<unknown> {
  // One index lookup per key, on both columns of submit_attempts_match. Written as one scan with
  // `match_key = ANY (keys)`, the planner (on statistics taken from a far smaller table) scanned
  // every attempt of the SMSC and filtered the keys: a cost that grew with the table, 1.5 ms per
  // receipt at 30,000 messages.
  return sql`SELECT f.message_id, f.seq FROM unnest(${keys}) WITH ORDINALITY AS k(key, n)
    CROSS JOIN LATERAL (
      SELECT a.message_id, a.seq FROM submit_attempts a
      WHERE a.smsc = ${smsc} AND a.match_key = k.key
      ORDER BY a.submitted_at DESC
      LIMIT 1) f
    ORDER BY k.n
    LIMIT 1`;
}

/**
 * Matches pending receipts to the segments `matches` names (a relation `m(rid, message_id, seq)`,
 * one row per receipt): the one UPDATE of every way a receipt is matched after it was stored. Only
 * a receipt still pending is changed (stillPending: a sweep, this daemon's or another's, may have
 * matched it meanwhile), and its match keys are cleared, as a receipt matched when stored never
 * has them: they serve only to match it, and they are what receipts_pending_keys holds.
 */
export function matchPending(matches: RawBuilder<unknown>): RawBuilder<MatchedReceipt> {
  return sql<MatchedReceipt>`
    UPDATE receipts AS r SET message_id = m.message_id, seq = m.seq, matched_at = now(), match_keys = '{}'
    FROM ${matches}
    WHERE r.id = m.rid AND ${stillPending('r')}
    RETURNING r.id AS "receiptId", r.message_id AS "messageId", r.seq, r.state, r.segment_status AS "segmentStatus",
      r.error_code AS "errorCode", r.network_error AS "networkError"`;
}

/** Stores receipts; returns the ids of those not seen before (a resend returns nothing). */
export async function insertReceipts(tx: Tx, receipts: readonly NewReceipt[]): Promise<string[]> {
  return (await insertMatchingReceipts(tx, receipts, false)).map((r) => r.receiptId);
}

/**
 * Stores receipts and, with `match`, matches each to its segment in the same statement (the same
 * lookup as matchReceipts: every carrier id the segment's submits ever got, best key first, then the
 * latest submit). A receipt matched as it is inserted is written once, never updated, and never
 * enters the pending indexes. Returns the receipts not seen before, matched or not (messageId null).
 */
export async function insertMatchingReceipts(tx: Tx, receipts: readonly NewReceipt[], match: boolean): Promise<StoredReceipt[]> {
  if (receipts.length === 0) return [];
  const lookup = match
    ? sql`LEFT JOIN LATERAL (${attemptByKeys(sql`u.smsc`, sql`u.keys`)}) s ON true`
    : sql`LEFT JOIN (SELECT NULL::text AS message_id, NULL::smallint AS seq) s ON false`;
  const rows = (
    await sql<StoredReceipt>`
      ${insertReceiptRows(sql`${receiptRows(receipts)} ${lookup}`, sql`s.message_id`, sql`s.seq`)}
      RETURNING id AS "receiptId", message_id AS "messageId", seq, state, segment_status AS "segmentStatus",
        error_code AS "errorCode", network_error AS "networkError"`.execute(tx)
  ).rows;
  return rows;
}

/**
 * A batch of receipts as rows `u` (the receipt's columns, and `keys`: its match keys as an array),
 * for an INSERT's FROM. The same receipt twice in one batch (a resend racing its original) is one row.
 */
function receiptRows(receipts: readonly NewReceipt[]): RawBuilder<unknown> {
  const unique = [...new Map(receipts.map((r) => [r.fingerprint, r])).values()];
  const col = <T>(f: (r: NewReceipt) => T): T[] => unique.map(f);
  return sql`(
    -- Columns named, not all of v: a statement whose text selects all columns is never prepared
    -- (repeated-statements.ts).
    SELECT v.fingerprint, v.smsc, v.bind, v.smsc_message_id, v.state, v.segment_status, v.error_code, v.network_error,
      v.submit_date, v.done_date, v.body, v.tlvs, v.original_body, v.source_addr, v.dest_addr,
      string_to_array(v.match_keys, chr(31)) AS keys, v.sent_message_id, v.sent_seq,
      -- The keys to look up: none when the daemon named the receipt's segment (NewReceipt.sentSegment).
      CASE WHEN v.sent_message_id IS NULL THEN string_to_array(v.match_keys, chr(31)) ELSE '{}'::text[] END AS lookup_keys
    FROM unnest(
      ${batchArray(col((r) => r.fingerprint), 'text[]')}, ${col((r) => r.smsc)}::text[], ${col((r) => r.bind)}::text[],
      ${col((r) => r.smscMessageId)}::text[], ${col((r) => r.matchKeys.join('\x1f'))}::text[], ${col((r) => r.state)}::text[],
      ${col((r) => r.segmentStatus ?? null)}::text[], ${col((r) => r.errorCode)}::text[], ${col((r) => r.networkError)}::text[],
      ${col((r) => r.submitDate)}::timestamptz[], ${col((r) => r.doneDate)}::timestamptz[], ${col((r) => r.body)}::text[],
      ${col((r) => (r.tlvs === null ? null : JSON.stringify(r.tlvs)))}::text[], ${col((r) => r.originalBody ?? null)}::bytea[],
      ${col((r) => r.sourceAddr ?? null)}::text[], ${col((r) => r.destAddr ?? null)}::text[],
      ${col((r) => r.sentSegment?.messageId ?? null)}::text[], ${col((r) => r.sentSegment?.seq ?? null)}::smallint[]
    ) AS v(fingerprint, smsc, bind, smsc_message_id, match_keys, state, segment_status, error_code, network_error,
      submit_date, done_date, body, tlvs, original_body, source_addr, dest_addr, sent_message_id, sent_seq)
  ) AS u`;
}

/**
 * INSERT INTO receipts of the rows `u` of `from` (receiptRows and whatever it joins), each matched
 * to `messageId`/`seq` (null: pending); a receipt stored before (its fingerprint) is skipped. The
 * caller adds RETURNING. A receipt matched here keeps no match keys: they are read only to match
 * a pending one, and a match is never undone (about 40 bytes a receipt, in the row and its WAL).
 */
function insertReceiptRows(from: RawBuilder<unknown>, messageId: RawBuilder<unknown>, seq: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    INSERT INTO receipts (fingerprint, smsc, bind, smsc_message_id, match_keys, state, final, segment_status,
      error_code, network_error, submit_date, done_date, body, tlvs, original_body, source_addr, dest_addr,
      message_id, seq, matched_at)
    SELECT u.fingerprint, u.smsc, u.bind, u.smsc_message_id, CASE WHEN ${messageId} IS NULL THEN u.keys ELSE '{}'::text[] END, u.state,
      u.segment_status IS NOT NULL, u.segment_status, u.error_code, u.network_error, u.submit_date, u.done_date,
      u.body, u.tlvs::jsonb, u.original_body, u.source_addr, u.dest_addr,
      ${messageId}, ${seq}, CASE WHEN ${messageId} IS NOT NULL THEN now() END
    FROM ${from}
    ON CONFLICT (fingerprint) DO NOTHING`;
}

/** A receipt as stored: matched to its segment, or still pending (messageId and seq null). */
export interface StoredReceipt {
  readonly receiptId: string;
  readonly messageId: string | null;
  readonly seq: number | null;
  readonly state: string;
  readonly segmentStatus: SegmentFinalStatus | null;
  readonly errorCode: string | null;
  readonly networkError: string | null;
}


/**
 * Matches newly stored receipts to segments through every carrier id their submits ever got (one
 * row per attempt: a copy sent again keeps the first copy's id too): the best key wins, then the
 * latest submit.
 */
export async function matchReceipts(tx: Tx, receiptIds: readonly string[]): Promise<MatchedReceipt[]> {
  if (receiptIds.length === 0) return [];
  return (await matchReceiptsQuery(receiptIds).execute(tx)).rows;
}

/** matchReceipts' statement (its test reads the plan). */
export function matchReceiptsQuery(receiptIds: readonly string[]): RawBuilder<MatchedReceipt> {
  return matchPending(sql`(
      SELECT r2.id AS rid, s.message_id, s.seq
      FROM receipts r2
      CROSS JOIN LATERAL (${attemptByKeys(sql`r2.smsc`, sql`r2.match_keys`)}) s
      WHERE r2.id = ANY (${batchArray([...receiptIds], 'bigint[]')})
    ) AS m`);
}

/**
 * Matches pending receipts to segments whose responses were just recorded (a receipt two of them
 * name goes to the one its best key names), and takes the row locks (lockMessages) of `messageIds`
 * and of the messages of the receipts it matched, in one statement: the locks in id order, after
 * the match. What the caller reads next (a statement of its own) sees every receipt their previous
 * holders applied.
 */
export async function matchPendingLocking(
  tx: Tx,
  segments: readonly { smsc: string; matchKey: string; messageId: string; seq: number }[],
  messageIds: readonly string[],
): Promise<MatchedReceipt[]> {
  if (segments.length === 0) {
    await lockMessages(tx, messageIds);
    return [];
  }
  // One row even when nothing matched, so that the locks are always taken (a CTE that is not
  // data-modifying runs only as far as it is read). Columns by name: a `*` keeps a statement from
  // being prepared (repeated-statements.ts), and this one was planned again at every batch.
  const rows = await sql<MatchedReceipt | { [K in keyof MatchedReceipt]: null }>`
    ${GENERIC_PLAN}WITH early AS (${pendingMatch(segments)}
    ), locked AS (${lockingMessages(sql`ARRAY(SELECT unnest(${batchArray([...messageIds], 'text[]')}) UNION SELECT e."messageId" FROM early e)`)})
    SELECT e."receiptId", e."messageId", e.seq, e.state, e."segmentStatus", e."errorCode", e."networkError"
    FROM (SELECT count(*) FROM locked) l LEFT JOIN early e ON true`.execute(tx);
  return rows.rows.filter((r): r is MatchedReceipt => r.receiptId !== null);
}

/** matchPendingLocking's UPDATE, returning the MatchedReceipt of each receipt matched (its test reads the plan). */
export function pendingMatch(segments: readonly { smsc: string; matchKey: string; messageId: string; seq: number }[]): RawBuilder<MatchedReceipt> {
  // Pending receipts include every receipt that never matched (kept, counted unmatched), so their
  // number grows with the days. The lateral is a lookup of receipts_pending_keys (GIN) per answer:
  // OFFSET 0 keeps it one (pulled up into a join, it was planned as a hash join on smsc filtering
  // every pending receipt with @>, 1.1 s per submit batch over 50,000 of them), and its conditions
  // let it use no other index (migration 0026: the btree indexes of pending receipts read all of
  // an SMSC's for each answer). A receipt matched has its keys cleared (matchPending): it leaves
  // that index.
  return matchPending(sql`(
      SELECT DISTINCT ON (p.id) p.id AS rid, v.message_id, v.seq
      FROM unnest(${batchArray(segments.map((s) => s.smsc), 'text[]')}, ${segments.map((s) => s.matchKey)}::text[],
        ${segments.map((s) => s.messageId)}::text[], ${segments.map((s) => s.seq)}::smallint[]) AS v(smsc, match_key, message_id, seq)
      CROSS JOIN LATERAL (
        SELECT r2.id, array_position(r2.match_keys, v.match_key) AS rank FROM receipts r2
        WHERE ${pendingNaming('r2', sql`v.smsc`, sql`v.match_key`)}
        OFFSET 0) p
      ORDER BY p.id, p.rank
    ) AS m`);
}

/**
 * Applies matched receipts to their segments, forward only: a final receipt decides a segment's
 * status, and only a better final report for a segment sent twice (another copy's, see
 * SEGMENT_FINAL_ORDER) changes it after; intermediate ones only note the latest state. Returns the ids of the messages touched.
 */
export async function applyReceipts(tx: Tx, matched: readonly MatchedReceipt[]): Promise<Set<string>> {
  if (matched.length === 0) return new Set();
  const m = matched;
  await sql`${updateSegmentsFrom(sql`unnest(${batchArray(m.map((r) => r.receiptId), 'bigint[]')}, ${m.map((r) => r.messageId)}::text[],
      ${m.map((r) => r.seq)}::smallint[], ${m.map((r) => r.segmentStatus)}::text[], ${m.map((r) => r.state)}::text[],
      ${m.map((r) => r.errorCode)}::text[], ${m.map((r) => r.networkError)}::text[])
      AS r(id, message_id, seq, segment_status, state, error_code, network_error)`)}`.execute(tx);
  return new Set(m.map((r) => r.messageId));
}

/**
 * Matches pending receipts (by id) and applies them the careful way: their segments, then their
 * messages settled under the messages' row locks (settleMessages). For the caller's transaction;
 * a receipt matched meanwhile by someone else is skipped.
 */
export async function applyPendingReceipts(
  tx: Transaction<Database>,
  receiptIds: readonly string[],
  statusWebhooks: readonly string[],
): Promise<{ matched: MatchedReceipt[]; changes: StatusChange[] }> {
  const matched = await matchReceipts(tx, receiptIds);
  const touched = await applyReceipts(tx, matched);
  return { matched, changes: await settleMessages(tx, touched, statusWebhooks) };
}

/**
 * UPDATE of the segments that the matched receipts `r` (id, message_id, seq, segment_status,
 * state, error_code, network_error) of `from` report on, forward only: a final status decides a
 * segment still accepted, and only a better final report (SEGMENT_FINAL_ORDER) changes it after,
 * for a segment sent twice; an intermediate one only notes the latest state. Of several receipts
 * for one segment, the best final one counts (the first of equals), else the latest. The caller
 * may add RETURNING (the segment `s`, its receipt `v`).
 */
function updateSegmentsFrom(from: RawBuilder<unknown>): RawBuilder<unknown> {
  const order = [...SEGMENT_FINAL_ORDER];
  return sql`
    UPDATE segments AS s SET
      status = COALESCE(v.status, s.status),
      receipt_state = v.state,
      error_code = COALESCE(v.error_code, s.error_code),
      network_error = COALESCE(v.network_error, s.network_error),
      final_at = CASE WHEN v.status IS NOT NULL THEN now() ELSE s.final_at END
    FROM (
      SELECT DISTINCT ON (r.message_id, r.seq) r.message_id, r.seq, r.segment_status AS status, r.state, r.error_code, r.network_error
      FROM ${from}
      ORDER BY r.message_id, r.seq, r.segment_status IS NULL, array_position(${order}::text[], r.segment_status) DESC,
        CASE WHEN r.segment_status IS NULL THEN -r.id ELSE r.id END
    ) AS v
    WHERE s.message_id = v.message_id AND s.seq = v.seq
      AND (s.status = 'accepted'
        OR (s.possible_duplicate AND v.status IS NOT NULL AND array_position(${order}::text[], v.status) > array_position(${order}::text[], s.status)))`;
}

/**
 * Stores a batch of receipts and applies what they say: the deliver_sm that carried them may be
 * answered once this resolves. A receipt seen before changes nothing.
 *
 * Nearly every receipt reports on the one part of a submitted message. Those are stored, matched,
 * applied to their segment and their message settled (with its event) by one statement, so a
 * batch costs one round trip and no transaction of its own: under load each round trip waits for
 * the daemon's busy event loop, and the SMSC's window holds back its next deliver_sm until these
 * are answered. Every other receipt (a part of a longer message; a message that is a possible
 * duplicate, already final, or not yet marked submitted because its submit's status change is
 * still being recorded; one that matched nothing because it raced its submit's answer) is stored
 * pending by that statement, then matched and applied the careful way, under its messages' row
 * locks (settleMessages), in a transaction. Should the daemon die in between, the rematch sweep
 * applies it; a receipt that finds its message not yet submitted is settled by recordSubmits.
 */
export async function storeReceipts(db: Db, receipts: readonly NewReceipt[], statusWebhooks: readonly string[] = []): Promise<{ stored: number; matched: number; changes: StatusChange[] }> {
  if (receipts.length === 0) return { stored: 0, matched: 0, changes: [] };
  const first = await withDeliveries(
    db,
    statusWebhooks,
    (tx) => storeSettlingSingleParts(tx, receipts),
    (tx, stored) => enqueueStatusWebhooks(tx, stored.changes, statusWebhooks),
  );
  if (first.pending.length === 0) return { stored: first.stored, matched: first.matched, changes: first.changes };
  const rest = await db.transaction().execute((tx) => applyPendingReceipts(tx, first.pending, statusWebhooks));
  return { stored: first.stored, matched: first.matched + rest.matched.length, changes: [...first.changes, ...rest.changes] };
}

/**
 * A message's status from the final report of its only part, for every final report (settleStatus:
 * the rule is the domain's, Postgres only looks it up), with the change's delivered part count
 * and error reason.
 */
const SINGLE_PART_OUTCOMES = SEGMENT_FINAL_ORDER.map((report) => {
  const settled = settleStatus({ current: 'submitted', possibleDuplicate: false, segments: 1, statuses: [report] })!;
  return { report, status: settled.status, delivered: report === 'delivered' ? 1 : 0, reason: settledError(settled.status, settled.finals, null).errorReason };
});

/**
 * The one statement of storeReceipts: stores the batch, applies the receipts for the only part of
 * a submitted message that is no possible duplicate, settles those messages and records their
 * events (changeMessagesFrom). A receipt's segment is the one the daemon named (sentSegment: it
 * sent it lately), else the one its keys find (attemptByKeys); a named one the statement must not
 * apply is stored pending with its keys, and matched by them the careful way. Returns the receipts
 * stored, those matched, the ids of those left pending that have a carrier id to match by, and the
 * status changes applied.
 */
async function storeSettlingSingleParts(
  tx: Tx,
  receipts: readonly NewReceipt[],
): Promise<{ stored: number; matched: number; pending: string[]; changes: StatusChange[] }> {
  // The message row seen when the statement began: a submitted message is never flagged a possible
  // duplicate afterwards and never gets another part, and its change below applies only while it
  // is still submitted.
  const single = (column: RawBuilder<unknown>): RawBuilder<unknown> =>
    sql`CASE WHEN m.status = 'submitted' AND NOT m.possible_duplicate AND m.segments = 1 THEN ${column} END`;
  const o = SINGLE_PART_OUTCOMES;
  const row = (
    await sql<{
      stored: number;
      matched: number;
      pending: string[];
      changes: { id: string; status: MessageStatus; route: string; metadata: Record<string, unknown> | null; segments: number | null;
        smsc: string | null; delivered_segments: number; submitted_at: string | null; error_code: string | null; error_reason: string | null }[] | null;
    }>`
      ${GENERIC_PLAN}WITH ins AS (
        ${insertReceiptRows(
          sql`${receiptRows(receipts)}
            LEFT JOIN LATERAL (${attemptByKeys(sql`u.smsc`, sql`u.lookup_keys`)}) a ON true
            LEFT JOIN messages m ON m.id = COALESCE(u.sent_message_id, a.message_id)`,
          single(sql`COALESCE(u.sent_message_id, a.message_id)`),
          single(sql`COALESCE(u.sent_seq, a.seq)`),
        )}
        RETURNING id, message_id, seq, segment_status, state, error_code, network_error, match_keys
      ), seg AS (
        ${updateSegmentsFrom(sql`(SELECT id, message_id, seq, segment_status, state, error_code, network_error FROM ins
          WHERE message_id IS NOT NULL) AS r`)}
        RETURNING s.message_id, s.status, s.error_code
      ), settled AS (
        SELECT seg.message_id AS id, x.status, 'submitted'::text AS previous, NULL::text AS smsc, NULL::smallint AS segments,
          CASE WHEN x.reason IS NOT NULL AND seg.error_code IS NOT NULL THEN ${RECEIPT_ERROR_PREFIX} || seg.error_code END AS error_code,
          x.reason AS error_reason, x.delivered AS delivered_segments
        FROM seg JOIN unnest(${batchArray(o.map((x) => x.report), 'text[]')}, ${o.map((x) => x.status)}::text[], ${o.map((x) => x.delivered)}::smallint[],
          ${o.map((x) => x.reason)}::text[]) AS x(report, status, delivered, reason) ON x.report = seg.status
      ), ${changeMessagesFrom(sql`settled AS v`)}
      SELECT (SELECT count(*) FROM ins)::int AS stored,
        (SELECT count(*) FROM ins WHERE message_id IS NOT NULL)::int AS matched,
        ARRAY(SELECT id::text FROM ins WHERE message_id IS NULL AND cardinality(match_keys) > 0) AS pending,
        (SELECT json_agg(json_build_object('id', c.id, 'status', c.status, 'route', c.route, 'metadata', c.metadata,
          'segments', c.segments, 'smsc', c.smsc, 'delivered_segments', c.delivered_segments, 'submitted_at', c.submitted_at,
          'error_code', c.change_error_code, 'error_reason', c.change_error_reason)) FROM changed c) AS changes`.execute(tx)
  ).rows[0]!;
  const at = new Date();
  const changes: StatusChange[] = (row.changes ?? []).map((c) => ({
    id: c.id,
    status: c.status,
    previous: 'submitted',
    segments: c.segments,
    deliveredSegments: c.delivered_segments,
    smsc: c.smsc,
    route: c.route,
    metadata: c.metadata,
    errorCode: c.error_code,
    errorReason: c.error_reason,
    submittedAt: c.submitted_at === null ? null : new Date(c.submitted_at),
    possibleDuplicate: false,
    at,
  }));
  return { stored: row.stored, matched: row.matched, pending: row.pending, changes };
}
