/**
 * Receipts in Postgres: stored as they come (a resend of the same receipt is recognised by its
 * fingerprint and changes nothing), matched to the segment they report on through the key of the
 * carrier's id, and applied forward only. A receipt whose segment is not known yet stays pending
 * and is matched the moment the submit's response is recorded, by whichever daemon records it.
 *
 * No lock orders the two sides: a receipt inserted while its segment's answer is being recorded
 * can miss that answer (uncommitted when the insert looked) while the recorder misses the receipt
 * (uncommitted when it looked). The receipt then stays pending with its segment committed, and
 * `rematchPendingReceipts`, run by every daemon every fraction of a second, matches it. Matching is
 * idempotent (only a receipt still pending is matched; applying is forward only), so nothing
 * serialises receipt batches across daemons.
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './tables.ts';
import type { StatusEventFacts as StatusChange } from '../domain/events.ts';
import { SEGMENT_FINAL_ORDER, isBetterSegmentStatus, type SegmentFinalStatus } from '../domain/status.ts';
import { settleMessages } from './status-changes.ts';
import type { NewReceipt, UnmatchedReceipt } from '../domain/receipt.ts';

type Tx = Transaction<Database> | Db;

interface MatchedReceipt {
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
 * those matched again later.
 */
function attemptByKeys(smsc: RawBuilder<unknown>, keys: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`SELECT a.message_id, a.seq FROM submit_attempts a
    WHERE a.smsc = ${smsc} AND a.match_key = ANY (${keys})
    ORDER BY array_position(${keys}, a.match_key), a.submitted_at DESC
    LIMIT 1`;
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
  // The same receipt twice in one batch (a resend racing its original) is stored once.
  const unique = [...new Map(receipts.map((r) => [r.fingerprint, r])).values()];
  const col = <T>(f: (r: NewReceipt) => T): T[] => unique.map(f);
  const lookup = match
    ? sql`LEFT JOIN LATERAL (${attemptByKeys(sql`u.smsc`, sql`u.keys`)}) s ON true`
    : sql`LEFT JOIN (SELECT NULL::text AS message_id, NULL::smallint AS seq) s ON false`;
  const rows = (
    await sql<StoredReceipt>`
      INSERT INTO receipts (fingerprint, smsc, bind, smsc_message_id, match_keys, state, final, segment_status,
        error_code, network_error, submit_date, done_date, body, tlvs, original_body, source_addr, dest_addr,
        message_id, seq, matched_at)
      SELECT u.fingerprint, u.smsc, u.bind, u.smsc_message_id, u.keys, u.state,
        u.segment_status IS NOT NULL, u.segment_status, u.error_code, u.network_error, u.submit_date, u.done_date,
        u.body, u.tlvs::jsonb, u.original_body, u.source_addr, u.dest_addr,
        s.message_id, s.seq, CASE WHEN s.message_id IS NOT NULL THEN now() END
      FROM (
        -- Columns named, not v.*: a text with a * is never prepared (repeated-statements.ts).
        SELECT v.fingerprint, v.smsc, v.bind, v.smsc_message_id, v.state, v.segment_status, v.error_code, v.network_error,
          v.submit_date, v.done_date, v.body, v.tlvs, v.original_body, v.source_addr, v.dest_addr,
          string_to_array(v.match_keys, chr(31)) AS keys
        FROM unnest(
          ${col((r) => r.fingerprint)}::text[], ${col((r) => r.smsc)}::text[], ${col((r) => r.bind)}::text[],
          ${col((r) => r.smscMessageId)}::text[], ${col((r) => r.matchKeys.join('\x1f'))}::text[], ${col((r) => r.state)}::text[],
          ${col((r) => r.segmentStatus ?? null)}::text[], ${col((r) => r.errorCode)}::text[], ${col((r) => r.networkError)}::text[],
          ${col((r) => r.submitDate)}::timestamptz[], ${col((r) => r.doneDate)}::timestamptz[], ${col((r) => r.body)}::text[],
          ${col((r) => (r.tlvs === null ? null : JSON.stringify(r.tlvs)))}::text[], ${col((r) => r.originalBody ?? null)}::bytea[],
          ${col((r) => r.sourceAddr ?? null)}::text[], ${col((r) => r.destAddr ?? null)}::text[]
        ) AS v(fingerprint, smsc, bind, smsc_message_id, match_keys, state, segment_status, error_code, network_error,
          submit_date, done_date, body, tlvs, original_body, source_addr, dest_addr)
      ) AS u
      ${lookup}
      ON CONFLICT (fingerprint) DO NOTHING
      RETURNING id AS "receiptId", message_id AS "messageId", seq, state, segment_status AS "segmentStatus",
        error_code AS "errorCode", network_error AS "networkError"`.execute(tx)
  ).rows;
  return rows;
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
  const res = await sql<MatchedReceipt>`
    UPDATE receipts AS r SET message_id = m.message_id, seq = m.seq, matched_at = now()
    FROM (
      SELECT r2.id AS rid, s.message_id, s.seq
      FROM receipts r2
      CROSS JOIN LATERAL (${attemptByKeys(sql`r2.smsc`, sql`r2.match_keys`)}) s
      WHERE r2.id = ANY (${sql.val([...receiptIds])}::bigint[])
    ) AS m
    WHERE r.id = m.rid
    RETURNING r.id AS "receiptId", r.message_id AS "messageId", r.seq, r.state, r.segment_status AS "segmentStatus",
      r.error_code AS "errorCode", r.network_error AS "networkError"`.execute(tx);
  return res.rows;
}

/** Matches pending receipts to segments whose responses were just recorded. */
export async function matchPendingReceipts(
  tx: Tx,
  segments: readonly { smsc: string; matchKey: string; messageId: string; seq: number }[],
): Promise<MatchedReceipt[]> {
  if (segments.length === 0) return [];
  const res = await sql<MatchedReceipt>`
    UPDATE receipts AS r SET message_id = v.message_id, seq = v.seq, matched_at = now()
    FROM unnest(${segments.map((s) => s.smsc)}::text[], ${segments.map((s) => s.matchKey)}::text[],
      ${segments.map((s) => s.messageId)}::text[], ${segments.map((s) => s.seq)}::smallint[]) AS v(smsc, match_key, message_id, seq)
    WHERE r.message_id IS NULL AND r.smsc = v.smsc AND r.match_keys @> ARRAY[v.match_key]
    RETURNING r.id AS "receiptId", r.message_id AS "messageId", r.seq, r.state, r.segment_status AS "segmentStatus",
      r.error_code AS "errorCode", r.network_error AS "networkError"`.execute(tx);
  return res.rows;
}

/**
 * Applies matched receipts to their segments, forward only: a final receipt decides a segment's
 * status, and only a better final report for a segment sent twice (another copy's, see
 * SEGMENT_FINAL_ORDER) changes it after; intermediate ones only note the latest state. Returns the ids of the messages touched.
 */
export async function applyReceipts(tx: Tx, matched: readonly MatchedReceipt[]): Promise<Set<string>> {
  if (matched.length === 0) return new Set();
  const bySegment = new Map<string, MatchedReceipt>();
  for (const m of [...matched].sort((a, b) => Number(BigInt(a.receiptId) - BigInt(b.receiptId)))) {
    const key = `${m.messageId}\0${m.seq}`;
    const seen = bySegment.get(key);
    if (!seen || seen.segmentStatus === null || (m.segmentStatus !== null && isBetterSegmentStatus(m.segmentStatus, seen.segmentStatus))) {
      bySegment.set(key, m);
    }
  }
  const rows = [...bySegment.values()];
  await sql`
    UPDATE segments AS s SET
      status = COALESCE(v.status, s.status),
      receipt_state = v.state,
      error_code = COALESCE(v.error_code, s.error_code),
      network_error = COALESCE(v.network_error, s.network_error),
      final_at = CASE WHEN v.status IS NOT NULL THEN now() ELSE s.final_at END
    FROM unnest(${rows.map((m) => m.messageId)}::text[], ${rows.map((m) => m.seq)}::smallint[],
      ${rows.map((m) => m.segmentStatus)}::text[], ${rows.map((m) => m.state)}::text[],
      ${rows.map((m) => m.errorCode)}::text[], ${rows.map((m) => m.networkError)}::text[])
      AS v(message_id, seq, status, state, error_code, network_error)
    WHERE s.message_id = v.message_id AND s.seq = v.seq
      AND (s.status = 'accepted'
        OR (s.possible_duplicate AND v.status IS NOT NULL AND array_position(${[...SEGMENT_FINAL_ORDER]}::text[], v.status) > array_position(${[...SEGMENT_FINAL_ORDER]}::text[], s.status)))`.execute(tx);
  return new Set(rows.map((r) => r.messageId));
}

/**
 * Receipts for a copy whose carrier id Parley never heard: a message sent again after a crash (or a
 * lost connection) whose first copy's submit_sm_resp was lost with it. No id can match such a
 * receipt, so it is tied to the message by what else it names: the same SMSC, the customer it
 * went to (the receipt's source) and our number (its destination), a message flagged
 * possible_duplicate, of one part (a part's position cannot be told from the receipt), created
 * before the receipt came; the latest such message wins. Only receipts pending at least
 * `olderThanMs` are tried: by then an ordinary early receipt has been matched by its id.
 * Receipts older than `horizonMs` are left to be counted unmatched.
 */
export async function matchCopyReceipts(
  db: Db,
  olderThanMs: number,
  horizonMs: number,
  pageSize: number,
  statusWebhooks: readonly string[] = [],
): Promise<{ matched: number; changes: StatusChange[] }> {
  let matched = 0;
  const changes: StatusChange[] = [];
  // Paged by id through every pending receipt in the window, so that receipts nothing will ever
  // match do not hide the newer ones behind them.
  for (let after = '0'; ; ) {
    const page = await sql<{ id: string; smsc: string; source_addr: string; dest_addr: string | null; received_at: Date }>`
      SELECT id, smsc, source_addr, dest_addr, received_at FROM receipts
      WHERE message_id IS NULL AND source_addr IS NOT NULL AND id > ${after}::bigint
        AND received_at < now() - make_interval(secs => ${olderThanMs / 1000})
        AND received_at > now() - make_interval(secs => ${horizonMs / 1000})
      ORDER BY id
      LIMIT ${pageSize}`.execute(db);
    if (page.rows.length === 0) break;
    after = page.rows[page.rows.length - 1]!.id;
    // Candidates are looked up with one indexed lookup of the numbers (both spellings) and chosen
    // here; the match itself is made in a transaction of its own, only where still pending.
    const p = page.rows;
    const bare = (a: string | null): string => (a ?? '').replace(/^\+/, '');
    const customers = [...new Set(p.flatMap((r) => [bare(r.source_addr), `+${bare(r.source_addr)}`]))];
    const candidates = await sql<{ id: string; to_addr: string; from_addr: string | null; created_at: Date; smsc: string }>`
      SELECT m.id, m.to_addr, m.from_addr, m.created_at, s.smsc
      FROM messages m JOIN segments s ON s.message_id = m.id AND s.seq = 1
      WHERE m.to_addr = ANY (${customers}::text[]) AND m.possible_duplicate AND s.total = 1`.execute(db);
    const byCustomer = new Map<string, typeof candidates.rows>();
    for (const c of candidates.rows) {
      const key = bare(c.to_addr);
      const list = byCustomer.get(key);
      if (list) list.push(c);
      else byCustomer.set(key, [c]);
    }
    const found: { rid: string; messageId: string }[] = [];
    for (const r of p) {
      let best: (typeof candidates.rows)[number] | undefined;
      for (const c of byCustomer.get(bare(r.source_addr)) ?? []) {
        if (c.smsc !== r.smsc || bare(c.from_addr) !== bare(r.dest_addr) || c.created_at > r.received_at) continue;
        if (!best || c.created_at > best.created_at) best = c;
      }
      if (best) found.push({ rid: r.id, messageId: best.id });
    }
    if (found.length === 0) continue;
    const result = await db.transaction().execute(async (tx) => {
      const res = await sql<MatchedReceipt>`
        UPDATE receipts AS r SET message_id = v.message_id, seq = 1, matched_at = now()
        FROM unnest(${found.map((f) => f.rid)}::bigint[], ${found.map((f) => f.messageId)}::text[]) AS v(rid, message_id)
        WHERE r.id = v.rid AND r.message_id IS NULL
        RETURNING r.id AS "receiptId", r.message_id AS "messageId", r.seq, r.state, r.segment_status AS "segmentStatus",
          r.error_code AS "errorCode", r.network_error AS "networkError"`.execute(tx);
      const touched = await applyReceipts(tx, res.rows);
      return { matched: res.rows.length, changes: await settleMessages(tx, touched, statusWebhooks) };
    });
    matched += result.matched;
    changes.push(...result.changes);
  }
  return { matched, changes };
}

/**
 * Matches receipts still pending that were received within `withinMs`, where a segment's answer
 * committed since names them: the receipts whose insert and whose answer's recorder ran at the
 * same time and missed each other. Receipts another daemon's sweep holds are skipped. Returns how
 * many matched and the status changes they made.
 */
export async function rematchPendingReceipts(
  db: Db,
  withinMs: number,
  pageSize: number,
  statusWebhooks: readonly string[] = [],
): Promise<{ matched: number; changes: StatusChange[] }> {
  let matched = 0;
  const changes: StatusChange[] = [];
  const pendingAfter = (after: string): RawBuilder<unknown> =>
    sql`SELECT id FROM receipts
      WHERE message_id IS NULL AND id > ${after}::bigint AND received_at > now() - make_interval(secs => ${withinMs / 1000})
      ORDER BY id`;
  for (let after = '0'; ; ) {
    // Nothing pending in the window (nearly always): one indexed probe, no transaction.
    if ((await sql`${pendingAfter(after)} LIMIT 1`.execute(db)).rows.length === 0) break;
    const page = await db.transaction().execute(async (tx) => {
      const held = await sql<{ id: string }>`${pendingAfter(after)} LIMIT ${pageSize} FOR UPDATE SKIP LOCKED`.execute(tx);
      const ids = held.rows.map((r) => r.id);
      const rows = await matchReceipts(tx, ids);
      const touched = await applyReceipts(tx, rows);
      return { rows, last: ids.at(-1) ?? null, changes: await settleMessages(tx, touched, statusWebhooks) };
    });
    matched += page.rows.length;
    changes.push(...page.changes);
    // An empty page: what the probe saw is held by another daemon's sweep (or was matched meanwhile).
    if (page.last === null) break;
    after = page.last;
  }
  return { matched, changes };
}

/** Receipts that matched nothing for longer than the horizon: kept, counted and listable. */
export async function listUnmatched(db: Db, olderThanMs: number, limit: number): Promise<UnmatchedReceipt[]> {
  const rows = await db
    .selectFrom('receipts')
    .select(['id', 'smsc', 'smsc_message_id', 'state', 'received_at', 'body'])
    .where('message_id', 'is', null)
    .where('received_at', '<', new Date(Date.now() - olderThanMs))
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, smsc: r.smsc, smscMessageId: r.smsc_message_id, state: r.state, receivedAt: r.received_at, body: r.body }));
}

export async function countUnmatched(db: Db, olderThanMs: number): Promise<number> {
  const row = await db
    .selectFrom('receipts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('message_id', 'is', null)
    .where('received_at', '<', new Date(Date.now() - olderThanMs))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Stores a batch of receipts and applies what they say, in one transaction: the deliver_sm that
 * carried them may be answered once this resolves. A receipt seen before changes nothing.
 */
export async function storeReceipts(db: Db, receipts: readonly NewReceipt[], statusWebhooks: readonly string[] = []): Promise<{ stored: number; matched: number; changes: StatusChange[] }> {
  if (receipts.length === 0) return { stored: 0, matched: 0, changes: [] };
  return db.transaction().execute(async (tx) => {
    // Matched as they are inserted, against the answers committed so far.
    const stored = await insertMatchingReceipts(tx, receipts, true);
    const matched: MatchedReceipt[] = [];
    const pending: string[] = [];
    for (const r of stored) {
      if (r.messageId !== null && r.seq !== null) matched.push(r as MatchedReceipt);
      else pending.push(r.receiptId);
    }
    // A receipt that matched nothing may be racing its submit's answer (uncommitted when the
    // insert looked): looked up again by a new statement, which sees what committed since. One
    // that still misses is matched by recordSubmits or by the rematch sweep.
    if (pending.length > 0) matched.push(...(await matchReceipts(tx, pending)));
    const touched = await applyReceipts(tx, matched);
    const changes = await settleMessages(tx, touched, statusWebhooks);
    return { stored: stored.length, matched: matched.length, changes };
  });
}
