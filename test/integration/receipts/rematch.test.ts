/**
 * No lock orders a receipt's insert and the recording of its submit's answer: when the two run at
 * once each can miss the other's uncommitted row. The receipt is then left pending with its
 * segment committed, and the rematch sweep (rematchPendingReceipts) matches it. These tests make
 * that race happen on purpose, on two real connections, and check what the sweep does with it.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages, recordAnswers, recordSubmits } from '../../../src/store/messages.ts';
import { insertMatchingReceipts, insertReceipts } from '../../../src/store/receipts.ts';
import { rematchPendingReceipts } from '../../../src/store/pending-receipts.ts';
import { acceptedSegment, carrierReceipt } from '../../support/receipt-records.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';

const s = freshSchemaPerTest();

const answer = (messageId: string, smscMessageId: string) => acceptedSegment(messageId, smscMessageId);
const delivered = (smscMessageId: string) => carrierReceipt(smscMessageId, 'DELIVRD', 'delivered');

const send = (ids: readonly string[]) =>
  insertMessages(
    s.db,
    'd1',
    ids.map((id, i) => ({ id, to: `+1415555${String(i).padStart(4, '0')}`, from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 })),
  );

/**
 * Records the answers and the `submitted` changes, as the submit recorder does: the answers'
 * statement applies those it can, recordSubmits the rest.
 */
async function submitted(ids: readonly string[]): Promise<void> {
  const answers = ids.map((id) => answer(id, `X${id}`));
  const changes = ids.map((id) => ({ id, status: 'submitted' as const, previous: 'queued' as const, smsc: 'sim', segments: 1, route: 'default' }));
  const applied = new Set((await recordAnswers(s.db, answers, changes)).map((c) => c.id));
  const rest = changes.filter((c) => !applied.has(c.id));
  if (rest.length > 0) await recordSubmits(s.db, answers.filter((a) => !applied.has(a.messageId)), rest);
}

const status = async (id: string): Promise<string> =>
  (await s.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const receiptOf = async (smscMessageId: string) =>
  s.db.selectFrom('receipts').select(['message_id', 'seq']).where('smsc_message_id', '=', smscMessageId).executeTakeFirstOrThrow();

describe('receipts that raced their answers', () => {
  it('a receipt inserted while its answer is recorded is left pending by both, then matched and applied by the sweep, once', async () => {
    await send(['m1']);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    // The receipt's transaction: inserted (matching nothing: no answer yet), not yet committed.
    const receiptTx = s.db.transaction().execute(async (tx) => {
      const stored = await insertMatchingReceipts(tx, [delivered('Xm1')], true);
      expect(stored.map((r) => r.messageId)).toEqual([null]);
      inserted();
      await gate;
    });
    await insertedYet;
    // Meanwhile the answer is recorded and the message submitted: the recorder cannot see the
    // uncommitted receipt.
    await submitted(['m1']);
    release();
    await receiptTx;
    expect(await status('m1')).toBe('submitted');
    expect(await receiptOf('Xm1')).toEqual({ message_id: null, seq: null });

    const swept = await rematchPendingReceipts(s.db, 60_000, 1000);
    expect(swept.matched).toBe(1);
    expect(swept.changes.map((c) => [c.id, c.previous, c.status])).toEqual([['m1', 'submitted', 'delivered']]);
    expect(await status('m1')).toBe('delivered');
    expect(await receiptOf('Xm1')).toEqual({ message_id: 'm1', seq: 1 });
    expect((await s.db.selectFrom('segments').select('status').where('message_id', '=', 'm1').executeTakeFirstOrThrow()).status).toBe('delivered');

    // Idempotent: nothing is pending any more, a second pass changes nothing.
    expect(await rematchPendingReceipts(s.db, 60_000, 1000)).toEqual({ matched: 0, changes: [] });
    const events = await readStatusHistory(s.db, ['m1']);
    expect(events.map((e) => e.status)).toEqual(['queued', 'submitted', 'delivered']);
  });

  it('two daemons sweeping at once match every pending receipt exactly once, page by page', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `m${i}`);
    await send(ids);
    await submitted(ids);
    // What the race leaves behind, for each: the answer committed, the receipt stored pending.
    await insertReceipts(s.db, ids.map((id) => delivered(`X${id}`)));
    const [a, b] = await Promise.all([rematchPendingReceipts(s.db, 60_000, 5), rematchPendingReceipts(s.db, 60_000, 5)]);
    expect(a.matched + b.matched).toBe(ids.length);
    expect([...a.changes, ...b.changes].map((c) => c.id).sort()).toEqual([...ids].sort());
    const pending = await s.db.selectFrom('receipts').select('id').where('message_id', 'is', null).execute();
    expect(pending).toEqual([]);
    const history = await readStatusHistory(s.db, ids);
    for (const id of ids) expect(history.filter((e) => e.messageId === id).map((e) => e.status)).toEqual(['queued', 'submitted', 'delivered']);
  });

  it('the frequent pass looks back only its window; the receipt sweep, over the unmatched horizon, matches an older one', async () => {
    await send(['m1']);
    await submitted(['m1']);
    await insertReceipts(s.db, [delivered('Xm1')]);
    // As if its transaction had committed long after it began (received_at is its start).
    await sql`UPDATE receipts SET received_at = now() - interval '5 minutes'`.execute(s.db);
    expect(await rematchPendingReceipts(s.db, 60_000, 1000)).toEqual({ matched: 0, changes: [] });
    expect(await status('m1')).toBe('submitted');
    const swept = await rematchPendingReceipts(s.db, 3_600_000, 1000);
    expect(swept.matched).toBe(1);
    expect(await status('m1')).toBe('delivered');
  });

  it('a receipt that matches no answer stays pending (counted unmatched later), untouched by every pass, and does not hide the ones after it', async () => {
    await send(['m1']);
    await submitted(['m1']);
    await insertReceipts(s.db, [delivered('NOBODY'), delivered('Xm1')]);
    const swept = await rematchPendingReceipts(s.db, 60_000, 1);
    expect(swept.matched).toBe(1);
    expect(await status('m1')).toBe('delivered');
    expect(await receiptOf('NOBODY')).toEqual({ message_id: null, seq: null });
    // Not locked either (a row lock writes its tuple, and WAL): xmax is set by a lock as by an update.
    expect(await rematchPendingReceipts(s.db, 60_000, 1)).toEqual({ matched: 0, changes: [] });
    const locked = await sql<{ xmax: string }>`SELECT xmax::text AS xmax FROM receipts WHERE smsc_message_id = 'NOBODY'`.execute(s.db);
    expect(locked.rows).toEqual([{ xmax: '0' }]);
  });
});
