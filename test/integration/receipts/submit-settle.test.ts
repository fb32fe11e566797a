/**
 * A submit batch's status changes (recordSubmits) in four statements where six were: the early
 * receipts matched and the messages' row locks taken in one (matchPendingLocking), and the
 * messages that may be final already read by the statement that marks them submitted
 * (applySubmitChanges), so that a batch whose receipts are still to come reads nothing to settle.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { lockWaitSeen } from '../../support/services.ts';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages, recordAnswers, recordSubmits } from '../../../src/store/messages.ts';
import { storeReceipts } from '../../../src/store/receipts.ts';
import type { StatusEventFacts } from '../../../src/domain/events.ts';
import { acceptedSegment, carrierReceipt } from '../../support/receipt-records.ts';

const s = freshSchemaPerTest();

const send = (ids: readonly string[]) =>
  insertMessages(
    s.db,
    'd1',
    ids.map((id) => ({ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 })),
  );
const submittedChange = (id: string): StatusEventFacts => ({ id, status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1, route: 'default' });
const statusOf = async (id: string): Promise<string> =>
  (await s.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('recording a submit batch', () => {
  it('a receipt that came before the answer is matched by the batch, and its message settled in it', async () => {
    await send(['m1']);
    // No answer recorded yet: the receipt is stored pending.
    await storeReceipts(s.db, [carrierReceipt('A1', 'DELIVRD', 'delivered')]);
    const answer = acceptedSegment('m1', 'A1');
    await recordAnswers(s.db, [answer]);
    const changes = await recordSubmits(s.db, [answer], [submittedChange('m1')]);
    expect(changes.map((c) => c.status)).toEqual(['submitted', 'delivered']);
    expect(await statusOf('m1')).toBe('delivered');
    const receipt = await s.db.selectFrom('receipts').select(['message_id', 'seq']).executeTakeFirstOrThrow();
    expect(receipt).toEqual({ message_id: 'm1', seq: 1 });
  });

  it('a message whose part got its final receipt while it was still queued settles when it is marked submitted', async () => {
    await send(['m2', 'm3']);
    const answers = [acceptedSegment('m2', 'A2'), acceptedSegment('m3', 'A3')];
    await recordAnswers(s.db, answers);
    // m2's receipt is matched the careful way (its message still queued) and applied to its part.
    await storeReceipts(s.db, [carrierReceipt('A2', 'UNDELIV', 'undeliverable')]);
    const part = await s.db.selectFrom('segments').select('status').where('message_id', '=', 'm2').executeTakeFirstOrThrow();
    expect(part.status).toBe('undeliverable');
    expect(await statusOf('m2')).toBe('queued');
    // The answers went through this recorder before (answeredBefore): no carrier id is looked up,
    // so only the statement that marks them submitted can tell that m2 is final already.
    const changes = await recordSubmits(s.db, [], [submittedChange('m2'), submittedChange('m3')], [], new Set(['m2', 'm3']));
    expect(changes.map((c) => [c.id, c.status])).toEqual([
      ['m2', 'submitted'],
      ['m3', 'submitted'],
      ['m2', 'undeliverable'],
    ]);
    expect(await statusOf('m2')).toBe('undeliverable');
    expect(await statusOf('m3')).toBe('submitted');
  });

  it('takes the row locks of its messages before it changes them, whether or not a receipt matched', async () => {
    await send(['m4']);
    const answer = acceptedSegment('m4', 'A4');
    await recordAnswers(s.db, [answer]);
    const other = s.openPool(1);
    let recorded: Promise<StatusEventFacts[]> | undefined;
    let waited = false;
    let waiting: string[] = [];
    await other.transaction().execute(async (tx) => {
      // A receipt batch settling m4 the careful way holds its lock.
      await sql`SELECT 1 FROM messages WHERE id = 'm4' FOR NO KEY UPDATE`.execute(tx);
      recorded = recordSubmits(s.db, [answer], [submittedChange('m4')]);
      waited = await lockWaitSeen(s.db, 'transactionid', 2000);
      const activity = await sql<{ query: string }>`SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`.execute(tx);
      waiting = activity.rows.map((r) => r.query);
    });
    expect(waited).toBe(true);
    // The statement that waits is the one that matches early receipts and takes the locks, not
    // the status update after it. (pg_stat_activity keeps the first 1,024 bytes of a statement:
    // its start names it.)
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatch(/^\s*\/\* parley: generic plan \*\/ WITH early AS \(\s*UPDATE receipts/);
    expect(waiting[0]).not.toContain('UPDATE messages');
    expect((await recorded!).map((c) => c.status)).toEqual(['submitted']);
  });
});
