/**
 * Receipts that matched nothing when they were stored: matched later by sweeps (those that raced
 * their submit's answer, those for a copy whose carrier id was never heard), and, past the
 * unmatched horizon, counted and listed.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.ts';
import type { StatusEventFacts as StatusChange } from '../domain/events.ts';
import type { UnmatchedReceipt } from '../domain/receipt.ts';
import { settleMessages } from './status-changes.ts';
import { applyPendingReceipts, applyReceipts, attemptByKeys, matchPending } from './receipts.ts';

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
      // A copy is of one part: seq 1.
      const res = await matchPending(sql`
        unnest(${found.map((f) => f.rid)}::bigint[], ${found.map((f) => f.messageId)}::text[], ${found.map(() => 1)}::smallint[])
          AS m(rid, message_id, seq)`).execute(tx);
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
  // Only receipts an answer now names: one that matches nothing (a receipt for a message Parley
  // never sent; pending for good) is read but not locked, so it costs no write, no WAL and no
  // matching statement at every pass. Locked (FOR UPDATE) and matched by every 250 ms pass of
  // every daemon, 1,000 of those within the minute took 55 kB of WAL a pass.
  const pendingAfter = (after: string): RawBuilder<unknown> =>
    sql`SELECT r.id FROM receipts r
      WHERE r.message_id IS NULL AND r.id > ${after}::bigint AND r.received_at > now() - make_interval(secs => ${withinMs / 1000})
        AND EXISTS (${attemptByKeys(sql`r.smsc`, sql`r.match_keys`)})
      ORDER BY r.id`;
  for (let after = '0'; ; ) {
    // Nothing pending in the window (nearly always): one indexed probe, no transaction.
    if ((await sql`${pendingAfter(after)} LIMIT 1`.execute(db)).rows.length === 0) break;
    const page = await db.transaction().execute(async (tx) => {
      const held = await sql<{ id: string }>`${pendingAfter(after)} LIMIT ${pageSize} FOR UPDATE SKIP LOCKED`.execute(tx);
      const ids = held.rows.map((r) => r.id);
      const applied = await applyPendingReceipts(tx, ids, statusWebhooks);
      return { rows: applied.matched, last: ids.at(-1) ?? null, changes: applied.changes };
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
