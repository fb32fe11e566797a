/**
 * Customer messages in: each part stored as it came (a resend is recognised by its fingerprint),
 * whole replies assembled from complete groups of parts in any order, incomplete groups released
 * after a timeout, and the replies table doubling as the durable queue of replies to handle.
 */
import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import type { Db } from './db.ts';
import type { Database, RepliesTable } from './tables.ts';
import { enqueueDeliveries, withDeliveries } from './webhooks.ts';
import { literalLimit } from './index-scans.ts';
import { groupKey, groupLockId, reassemblyLockId, unseenUnderLocks, withReassemblyLocks, type GroupRow } from './reassembly-locks.ts';
import { toStorableText } from '../domain/storable-text.ts';
import { customerPairKey } from '../domain/conversation.ts';
import type { NewPart, StoredPart, AssembledReply, Assemble, PendingReply, ReplyOutcome } from '../domain/reply.ts';

type Tx = Transaction<Database> | Db;


interface PartRow {
  id: string;
  fingerprint: string;
  smsc: string;
  from_addr: string;
  to_addr: string;
  concat_key: string | null;
  total: number;
  seq: number;
  data_coding: number;
  body: Buffer;
  received_at: Date;
}

const toPart = (r: PartRow): StoredPart => ({
  partId: String(r.id),
  fingerprint: r.fingerprint,
  smsc: r.smsc,
  from: r.from_addr,
  to: r.to_addr,
  total: r.total,
  seq: r.seq,
  dataCoding: r.data_coding,
  body: r.body,
  receivedAt: r.received_at,
});

/** The open parts of one concatenated message: one per seq to assemble, every row to mark as used. */
interface PartGroup {
  readonly parts: PartRow[];
  readonly rows: PartRow[];
}

/** Groups open parts (ordered by seq, id) by message; a seq seen twice (two resends of one part) counts once. */
function groupRows(rows: readonly PartRow[]): Map<string, PartGroup> {
  const byKey = new Map<string, PartGroup>();
  for (const r of rows) {
    const k = groupKey(r);
    const group = byKey.get(k) ?? { parts: [], rows: [] };
    if (!group.parts.some((x) => x.seq === r.seq)) group.parts.push(r);
    group.rows.push(r);
    byKey.set(k, group);
  }
  return byKey;
}

/**
 * Row ids of inbound parts, drawn from their sequence a block at a time, so that a part's id, and
 * with it the id of the reply it makes (`assembleParts`), is known before the part is written: a
 * batch is then stored by one statement instead of a draw and an insert. Ids drawn and never
 * used (a resend, a daemon stopping) are gaps in the sequence, as a resend's id always was. One
 * per daemon; ids are unique however many daemons draw.
 */
export class InboundPartIds {
  private ids: string[] = [];

  constructor(private readonly block = 1000) {}

  async take(db: Db, n: number): Promise<string[]> {
    if (this.ids.length < n) {
      const drawn = await sql<{ id: string }>`
        SELECT nextval('inbound_parts_id_seq')::text AS id FROM generate_series(1, ${Math.max(this.block, n - this.ids.length)}::int)`.execute(db);
      this.ids.push(...drawn.rows.map((r) => r.id));
    }
    return this.ids.splice(0, n);
  }
}

/**
 * Stores parts and assembles every reply they complete, in one transaction: once it commits,
 * the deliver_sm that carried them may be answered. Returns the new replies, claimed for this
 * daemon. A batch of whole messages (nearly all of them) is one statement, which takes the locks
 * itself (unseenUnderLocks); a batch with a part of a longer message is a transaction: BEGIN with
 * the locks, that statement, a read of the groups' other parts, COMMIT.
 */
export async function storeParts(
  db: Db,
  parts: readonly NewPart[],
  assemble: Assemble,
  duplicateWindowMs: number,
  leaseMs: number,
  ids: InboundPartIds,
): Promise<PendingReply[]> {
  if (parts.length === 0) return [];
  // A part twice in one batch (a resend before the first was answered) is stored once.
  const byFingerprint = new Map<string, NewPart>();
  for (const p of parts) if (!byFingerprint.has(p.fingerprint)) byFingerprint.set(p.fingerprint, p);
  const unique = [...byFingerprint.values()];
  const partIds = await ids.take(db, unique.length);
  // Postgres sets each part's received_at (now()), and a whole message's reply takes its part's:
  // the time given to `assemble` here is not stored.
  const drawnAt = new Date();
  const rows: (PartRow & { bind: string })[] = unique.map((p, i) => ({
    id: partIds[i]!,
    fingerprint: p.fingerprint,
    smsc: p.smsc,
    bind: p.bind,
    from_addr: p.from,
    to_addr: p.to,
    concat_key: p.concatKey,
    total: p.total,
    seq: p.seq,
    data_coding: p.dataCoding,
    body: p.body,
    received_at: drawnAt,
  }));
  const whole = (r: PartRow): boolean => r.total <= 1 || r.concat_key === null;
  const replyOf = new Map<PartRow, AssembledReply>();
  for (const row of rows) if (whole(row)) replyOf.set(row, assemble([toPart(row)], false));
  const singles = [...replyOf.values()];
  const col = <T>(f: (p: (typeof rows)[number]) => T): T[] => rows.map(f);
  // One statement: the parts not seen within the duplicate window are written (a whole message's
  // part with its reply id), and those replies inserted already claimed (leased) by this daemon,
  // which handles them at once; should it die first, the lease runs out and anyone may take them.
  // Only parts of a longer message wait in the open-parts indexes. The resend check is
  // reassembly_unseen's (unseenUnderLocks), made after it has taken the parts' locks: the
  // statement's own snapshot would miss a part another daemon committed while it waited for them.
  // In a transaction that holds the locks already (parts of a longer message), it takes them again,
  // which Postgres grants a session holding them at once.
  const locks = rows.map(reassemblyLockId);
  const unseen = unseenUnderLocks(locks, rows.map((r) => r.fingerprint), duplicateWindowMs / 1000);
  const writeParts = (tx: Tx) => sql<{ part_id: string } & Nullable<ReplyRow>>`
      ${GENERIC_PLAN}WITH unseen AS MATERIALIZED (${unseen}), u AS (
        SELECT u.id, u.fingerprint, u.smsc, u.bind, u.from_addr, u.to_addr, u.concat_key, u.total, u.seq, u.data_coding, u.body, u.reply_id
        FROM unnest(${batchArray(col((p) => p.id), 'bigint[]')}, ${col((p) => p.fingerprint)}::text[], ${col((p) => p.smsc)}::text[],
          ${col((p) => p.bind)}::text[], ${col((p) => p.from_addr)}::text[], ${col((p) => p.to_addr)}::text[],
          ${col((p) => p.concat_key)}::text[], ${col((p) => p.total)}::smallint[], ${col((p) => p.seq)}::smallint[],
          ${col((p) => p.data_coding)}::smallint[], ${col((p) => p.body)}::bytea[], ${col((p) => replyOf.get(p)?.id ?? null)}::text[])
          AS u(id, fingerprint, smsc, bind, from_addr, to_addr, concat_key, total, seq, data_coding, body, reply_id)
        WHERE u.fingerprint IN (SELECT n.fingerprint FROM unseen n)
      ), stored AS (
        INSERT INTO inbound_parts (id, fingerprint, smsc, bind, from_addr, to_addr, concat_key, total, seq, data_coding, body, received_at, reply_id)
        SELECT u.id, u.fingerprint, u.smsc, u.bind, u.from_addr, u.to_addr, u.concat_key, u.total, u.seq, u.data_coding, u.body, now(), u.reply_id
        FROM u
        RETURNING id, reply_id, received_at
      ), replied AS (
        INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, incomplete, data_coding, decode_problem, received_at, lease_until)
        SELECT r.id, r.smsc, r.from_addr, r.to_addr, r.body, r.parts, r.incomplete, r.data_coding, r.decode_problem, s.received_at,
          now() + make_interval(secs => ${leaseMs / 1000})
        FROM stored s
        JOIN unnest(${batchArray(singles.map((r) => r.id), 'text[]')}, ${singles.map((r) => r.smsc)}::text[], ${singles.map((r) => r.from)}::text[],
          ${singles.map((r) => r.to)}::text[], ${singles.map((r) => r.text)}::text[], ${singles.map((r) => r.parts)}::smallint[],
          ${singles.map((r) => r.incomplete)}::boolean[], ${singles.map((r) => r.dataCoding)}::smallint[],
          ${singles.map((r) => r.decodeProblem)}::text[])
          AS r(id, smsc, from_addr, to_addr, body, parts, incomplete, data_coding, decode_problem) ON r.id = s.reply_id
        ON CONFLICT (id) DO NOTHING
        RETURNING id, smsc, from_addr, to_addr, body, parts, incomplete, received_at
      )
      SELECT s.id::text AS part_id, r.id, r.smsc, r.from_addr, r.to_addr, r.body, r.parts, r.incomplete, r.received_at
      FROM stored s LEFT JOIN replied r ON r.id = s.reply_id`.execute(tx);
  const storedReplies = (written: { rows: Nullable<ReplyRow>[] }): PendingReply[] =>
    written.rows.flatMap((r) => (r.id === null ? [] : [toPending(r as ReplyRow)]));
  // Whole messages only (nearly every batch): the statement takes the locks itself, one round trip
  // and no transaction of its own.
  if (rows.every(whole)) return storedReplies(await writeParts(db));
  return withReassemblyLocks(db, locks, async (tx) => {
    const written = await writeParts(tx);
    const stored = storedReplies(written);
    // Parts of longer messages: each group whose parts are now all in becomes a reply.
    const storedIds = new Set(written.rows.map((r) => r.part_id));
    const openKeys = new Map<string, PartRow>();
    for (const row of rows) if (!whole(row) && storedIds.has(row.id)) openKeys.set(groupKey(row), row);
    if (openKeys.size === 0) return stored;
    const keys = [...openKeys.values()];
    const open = await sql<PartRow>`
      SELECT p.id, p.fingerprint, p.smsc, p.from_addr, p.to_addr, p.concat_key, p.total, p.seq, p.data_coding, p.body, p.received_at
      FROM inbound_parts p
      JOIN unnest(${batchArray(keys.map((k) => k.smsc), 'text[]')}, ${keys.map((k) => k.from_addr)}::text[], ${keys.map((k) => k.to_addr)}::text[],
        ${keys.map((k) => k.concat_key)}::text[], ${keys.map((k) => k.total)}::smallint[]) AS k(smsc, from_addr, to_addr, concat_key, total)
        ON p.smsc = k.smsc AND p.from_addr = k.from_addr AND p.to_addr = k.to_addr AND p.concat_key = k.concat_key AND p.total = k.total
      WHERE p.reply_id IS NULL
      ORDER BY p.seq, p.id`.execute(tx);
    const completed: { rows: readonly PartRow[]; reply: AssembledReply }[] = [];
    for (const group of groupRows(open.rows).values()) {
      if (group.parts.length >= (group.parts[0]?.total ?? 0)) completed.push({ rows: group.rows, reply: assemble(group.parts.map(toPart), false) });
    }
    return [...stored, ...(await insertReplies(tx, completed, leaseMs))];
  });
}

/**
 * Inserts assembled replies already claimed (leased) by this daemon, which handles them at once
 * without a claim round trip; should it die first, the lease runs out and anyone may take them.
 * Each reply's `rows` are its stored parts, to be marked with it.
 */
async function insertReplies(
  tx: Tx,
  replies: readonly { rows: readonly PartRow[]; reply: AssembledReply }[],
  leaseMs: number,
): Promise<PendingReply[]> {
  if (replies.length === 0) return [];
  const list = replies.map((r) => r.reply);
  const inserted = await sql<ReplyRow>`
    INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, incomplete, data_coding, decode_problem, received_at, lease_until)
    SELECT u.id, u.smsc, u.from_addr, u.to_addr, u.body, u.parts, u.incomplete, u.data_coding, u.decode_problem, u.received_at,
      now() + make_interval(secs => ${leaseMs / 1000})
    FROM unnest(${batchArray(list.map((r) => r.id), 'text[]')}, ${list.map((r) => r.smsc)}::text[], ${list.map((r) => r.from)}::text[],
      ${list.map((r) => r.to)}::text[], ${list.map((r) => r.text)}::text[], ${list.map((r) => r.parts)}::smallint[],
      ${list.map((r) => r.incomplete)}::boolean[], ${list.map((r) => r.dataCoding)}::smallint[],
      ${list.map((r) => r.decodeProblem)}::text[], ${list.map((r) => r.receivedAt)}::timestamptz[])
      AS u(id, smsc, from_addr, to_addr, body, parts, incomplete, data_coding, decode_problem, received_at)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, smsc, from_addr, to_addr, body, parts, incomplete, received_at`.execute(tx);
  // By row id: an older part with the same fingerprint (the same text sent before) keeps its reply.
  const partIds = replies.flatMap((r) => r.rows.map((row) => String(row.id)));
  const ids = replies.flatMap((r) => r.rows.map(() => r.reply.id));
  if (partIds.length > 0) {
    await sql`UPDATE inbound_parts AS p SET reply_id = v.reply_id
      FROM unnest(${batchArray(partIds, 'bigint[]')}, ${ids}::text[]) AS v(part_id, reply_id)
      WHERE p.id = v.part_id`.execute(tx);
  }
  return inserted.rows.map(toPending);
}

/** A reply as statements return it. */
type ReplyRow = Pick<Selectable<RepliesTable>, 'id' | 'smsc' | 'from_addr' | 'to_addr' | 'body' | 'parts' | 'incomplete' | 'received_at'>;

type Nullable<T> = { [K in keyof T]: T[K] | null };

function toPending(r: ReplyRow): PendingReply {
  return { id: r.id, smsc: r.smsc, from: r.from_addr, to: r.to_addr, text: r.body, parts: r.parts, incomplete: r.incomplete, receivedAt: r.received_at };
}

/** Releases groups still incomplete after `timeoutMs` as replies flagged incomplete. */
export async function releaseIncomplete(db: Db, timeoutMs: number, assemble: Assemble, leaseMs: number): Promise<PendingReply[]> {
  const staleSince = sql`now() - make_interval(secs => ${timeoutMs / 1000})`;
  const due = await sql<GroupRow>`
    SELECT smsc, from_addr, to_addr, concat_key, total FROM inbound_parts
    WHERE reply_id IS NULL AND received_at < ${staleSince}
    GROUP BY 1, 2, 3, 4, 5`.execute(db);
  if (due.rows.length === 0) return [];
  // Read again under the groups' locks: a part stored meanwhile may have completed one.
  return withReassemblyLocks(db, due.rows.map(groupLockId), async (tx) => {
    const stale = await sql<PartRow>`
      SELECT p.id, p.fingerprint, p.smsc, p.from_addr, p.to_addr, p.concat_key, p.total, p.seq, p.data_coding, p.body, p.received_at
      FROM inbound_parts p
      WHERE p.reply_id IS NULL AND (p.smsc, p.from_addr, p.to_addr, p.concat_key, p.total) IN (
        SELECT smsc, from_addr, to_addr, concat_key, total FROM inbound_parts
        WHERE reply_id IS NULL AND received_at < ${staleSince}
        GROUP BY 1, 2, 3, 4, 5)
      ORDER BY p.seq, p.id`.execute(tx);
    const replies = [...groupRows(stale.rows).values()].map((g) => ({
      rows: g.rows,
      reply: assemble(g.parts.map(toPart), g.parts.length < (g.parts[0]?.total ?? 0)),
    }));
    return insertReplies(tx, replies, leaseMs);
  });
}

/** Claims replies not yet handled; a daemon that dies mid-way leaves them to others after the lease. */
export async function claimReplies(db: Db, limit: number, leaseMs: number): Promise<PendingReply[]> {
  const res = await claimRepliesQuery(limit, leaseMs).execute(db);
  return res.rows.map(toPending).sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/**
 * claimReplies' statement: the oldest of the replies nobody holds (given back at a stop) and of
 * those whose lease ran out (a daemon died), each read from an index in the order it is taken in
 * (migration 0030), so neither reads the replies live daemons hold. Read by age among every reply
 * not yet handled, an idle daemon's poll (each second) went through all of those: 50,000 held
 * (answers to a campaign) took 7.7 ms a poll. Whether a lease ran out depends on now(), which no
 * index predicate can name, and the planner cannot estimate it: ordered by received_at, it chose
 * that order's index and filtered. Locking clauses are not allowed in a UNION's arms, only in
 * sub-selects below them; the rows are updated by id, from an array.
 */
export function claimRepliesQuery(limit: number, leaseMs: number): RawBuilder<ReplyRow> {
  const take = literalLimit(limit, 'replies');
  return sql<ReplyRow>`
    UPDATE replies SET lease_until = now() + make_interval(secs => ${leaseMs / 1000})
    WHERE id = ANY (ARRAY(
      SELECT c.id FROM (
        SELECT u.id, u.received_at FROM (SELECT id, received_at FROM replies
          WHERE status = 'received' AND lease_until IS NULL
          ORDER BY received_at LIMIT ${take} FOR UPDATE SKIP LOCKED) u
        UNION ALL
        SELECT x.id, x.received_at FROM (SELECT id, received_at FROM replies
          WHERE status = 'received' AND lease_until < now()
          ORDER BY lease_until LIMIT ${take} FOR UPDATE SKIP LOCKED) x
      ) c ORDER BY c.received_at LIMIT ${take}))
    RETURNING id, smsc, from_addr, to_addr, body, parts, incomplete, received_at`;
}

/** Gives claimed replies back to whoever claims next. */
export async function releaseReplies(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`UPDATE replies SET lease_until = NULL WHERE id = ANY (${batchArray([...ids], 'text[]')}) AND status = 'received'`.execute(db);
}

/** Concatenated messages still waiting for parts (for the reassemblies gauge). */
export async function countOpenGroups(db: Db): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM inbound_parts WHERE reply_id IS NULL GROUP BY smsc, from_addr, to_addr, concat_key, total) g`.execute(db);
  return row.rows[0]?.n ?? 0;
}

/** Records how a batch of replies was handled, with their webhook deliveries, in one transaction. */
export async function finishReplies(
  db: Db,
  items: readonly { id: string; outcome: ReplyOutcome; event: Record<string, unknown> }[],
  webhooks: readonly string[],
): Promise<void> {
  if (items.length === 0) return;
  const o = items.map((i) => i.outcome);
  const record = async (tx: Tx): Promise<void> => {
    await sql`
      ${GENERIC_PLAN}UPDATE replies AS r SET status = 'handled', lease_until = NULL, handled_at = now(),
        conversation_id = v.conversation_id, in_reply_to = v.in_reply_to, matched_kind = v.matched_kind,
        keyword = v.keyword, rule = v.rule, actions = v.actions::jsonb,
        resolved_automatically = v.resolved, answer_message_id = v.answer, error = v.error,
        intent = v.intent, intent_confidence = v.intent_confidence, intent_detail = v.intent_detail::jsonb
      FROM unnest(${batchArray(items.map((i) => i.id), 'text[]')}, ${o.map((x) => x.conversationId)}::bigint[], ${o.map((x) => x.inReplyTo)}::text[],
        ${o.map((x) => x.matchedKind)}::text[], ${o.map((x) => x.keyword)}::text[], ${o.map((x) => x.rule)}::text[],
        ${o.map((x) => JSON.stringify(x.actions))}::text[], ${o.map((x) => x.resolvedAutomatically)}::boolean[],
        ${o.map((x) => x.answerMessageId)}::text[], ${o.map((x) => x.error)}::text[],
        ${o.map((x) => x.intent?.name ?? null)}::text[], ${o.map((x) => x.intent?.confidence ?? null)}::real[],
        ${o.map((x) => (x.intent === undefined ? null : JSON.stringify(x.intent.detail)))}::text[])
        AS v(id, conversation_id, in_reply_to, matched_kind, keyword, rule, actions, resolved, answer, error, intent, intent_confidence, intent_detail)
      WHERE r.id = v.id`.execute(tx);
  };
  await withDeliveries(db, webhooks, record, (tx) =>
    enqueueDeliveries(tx, webhooks, items.map((i) => ({ type: 'message.inbound', body: i.event }))),
  );
}

/**
 * Sets replies aside that could not be handled (poison: a value the store or the outbound path
 * refuses, found by splitting the batch): `failed` with the reason, so they are not claimed and
 * handled again every lease. The reason is Parley's own text, made storable all the same.
 */
export async function failReplies(db: Db, items: readonly { id: string; error: string }[]): Promise<void> {
  if (items.length === 0) return;
  await sql`
    UPDATE replies AS r SET status = 'failed', lease_until = NULL, handled_at = now(), error = v.error
    FROM unnest(${batchArray(items.map((i) => i.id), 'text[]')}, ${items.map((i) => toStorableText(i.error).text)}::text[]) AS v(id, error)
    WHERE r.id = v.id AND r.status = 'received'`.execute(db);
}

/**
 * The pairs (`customer\0ourNumber`) whose customer wrote to that number within `withinMs`: an
 * answer to them is exempt from quiet hours.
 */
export async function recentWriters(db: Db, pairs: readonly { customer: string; ourNumber: string }[], withinMs: number): Promise<Set<string>> {
  if (pairs.length === 0 || withinMs <= 0) return new Set();
  const res = await sql<{ from_addr: string; to_addr: string }>`
    SELECT DISTINCT r.from_addr, r.to_addr FROM replies r
    JOIN unnest(${batchArray(pairs.map((p) => p.customer), 'text[]')}, ${pairs.map((p) => p.ourNumber)}::text[]) AS k(customer, our_number)
      ON r.from_addr = k.customer AND r.to_addr = k.our_number
    WHERE r.received_at > now() - make_interval(secs => ${withinMs / 1000})`.execute(db);
  return new Set(res.rows.map((r) => customerPairKey(r.from_addr, r.to_addr)));
}
