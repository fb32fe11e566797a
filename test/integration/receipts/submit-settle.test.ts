/**
 * Most messages become submitted in the statement that records their answers (recordAnswers):
 * each whose parts are all first answers in it, accepted, with no receipt waiting for them. The
 * others go to recordSubmits. A submit batch's status changes (recordSubmits) in four statements where six were: the early
 * receipts matched and the messages' row locks taken in one (matchPendingLocking), and the
 * messages that may be final already read by the statement that marks them submitted
 * (applySubmitChanges), so that a batch whose receipts are still to come reads nothing to settle.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { backendPid, lockWaitSeen } from '../../support/services.ts';
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
      waited = await lockWaitSeen(s.db, 'transactionid', await backendPid(tx), 2000);
      // The statements this transaction blocks, not every one waiting in the database: test files
      // run side by side, and another one's statement waiting on its own lock was counted here.
      const activity = await sql<{ query: string }>`
        SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pg_backend_pid() = ANY (pg_blocking_pids(pid))`.execute(tx);
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

describe('the answers statement marking messages submitted', () => {
  const rowOf = (id: string) =>
    s.db.selectFrom('messages').select(['status', 'owner', 'segments', 'smsc', 'submitted_at']).where('id', '=', id).executeTakeFirstOrThrow();

  it('marks each message whose every part it answers submitted, with the event facts, and changes no other', async () => {
    await send(['m1', 'm2', 'm3']);
    const m2 = [1, 2].map((seq) => ({ ...acceptedSegment('m2', `B${seq}`, { seq }), total: 2 }));
    const answers = [acceptedSegment('m1', 'A1'), ...m2, { ...acceptedSegment('m3', 'C1'), total: 2 }];
    const applied = await recordAnswers(s.db, answers, [submittedChange('m1'), { ...submittedChange('m2'), segments: 2 }, { ...submittedChange('m3'), segments: 2 }]);
    // m3's second part is not in this statement: its change is recordSubmits' to apply.
    expect(applied.map((c) => [c.id, c.status, c.previous, c.segments, c.route, c.possibleDuplicate])).toEqual([
      ['m1', 'submitted', 'queued', 1, 'default', false],
      ['m2', 'submitted', 'queued', 2, 'default', false],
    ]);
    expect(applied[0]!.submittedAt).toEqual(answers[0]!.respondedAt);
    expect(await rowOf('m1')).toMatchObject({ status: 'submitted', owner: null, segments: 1, smsc: 'sim', submitted_at: answers[0]!.respondedAt });
    expect(await statusOf('m2')).toBe('submitted');
    expect(await rowOf('m3')).toMatchObject({ status: 'queued', owner: 'd1' });
  });

  it('leaves a message to recordSubmits when a receipt came before its answer, when a part was stored before, or when it is no longer queued', async () => {
    await send(['m1', 'm2', 'm3', 'm4']);
    await storeReceipts(s.db, [carrierReceipt('A1', 'DELIVRD', 'delivered')]);
    // m2's part was answered before (sent again now), m3 was flagged a possible duplicate, m4 cancelled.
    await recordAnswers(s.db, [acceptedSegment('m2', 'A2')]);
    await sql`UPDATE messages SET status = 'failed', owner = NULL WHERE id = 'm4'`.execute(s.db);
    const answers = [acceptedSegment('m1', 'A1'), acceptedSegment('m2', 'B2'), acceptedSegment('m3', 'A3', { possibleDuplicate: true }), acceptedSegment('m4', 'A4')];
    const changes = ['m1', 'm2', 'm3', 'm4'].map(submittedChange);
    expect(await recordAnswers(s.db, answers, changes)).toEqual([]);
    expect(await statusOf('m1')).toBe('queued');
    // recordSubmits, as the recorder calls it for them, matches m1's early receipt and settles it.
    const settled = await recordSubmits(s.db, answers, changes.slice(0, 3));
    expect(settled.map((c) => [c.id, c.status])).toEqual([
      ['m1', 'submitted'],
      ['m2', 'submitted'],
      ['m3', 'submitted'],
      ['m1', 'delivered'],
    ]);
    expect(await statusOf('m4')).toBe('failed');
  });

  it('a receipt stored after the statement finds its message submitted and settles it at once (one stored while it runs: rematch.test.ts)', async () => {
    await send(['m1']);
    expect((await recordAnswers(s.db, [acceptedSegment('m1', 'A1')], [submittedChange('m1')])).map((c) => c.status)).toEqual(['submitted']);
    const stored = await storeReceipts(s.db, [carrierReceipt('A1', 'DELIVRD', 'delivered')]);
    // Stored after the answers were committed, it finds the message submitted and settles it at once.
    expect(stored.changes.map((c) => [c.id, c.status])).toEqual([['m1', 'delivered']]);
  });
});
