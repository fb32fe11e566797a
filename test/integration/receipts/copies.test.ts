/**
 * A message sent twice (a possible duplicate) whose two copies both got carrier ids: each copy's
 * receipt matches, through the attempt that carried its id, and the message's final status is the
 * best the copies report.
 */
import { describe, expect, it } from 'vitest';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages, recordAnswers, recordSubmits } from '../../../src/store/messages.ts';
import { storeReceipts } from '../../../src/store/receipts.ts';
import { countUnmatched } from '../../../src/store/pending-receipts.ts';
import { acceptedSegment, carrierReceipt } from '../../support/receipt-records.ts';

const s = freshSchemaPerTest();

const segment = (smscMessageId: string, attempts: number, possibleDuplicate: boolean) =>
  acceptedSegment('m1', smscMessageId, { attempts, possibleDuplicate });
const receipt = carrierReceipt;

describe('receipts of both copies of a message sent twice', () => {
  it('both match, none unmatched; undeliverable then delivered leaves it delivered, flagged in the events', async () => {
    await insertMessages(s.db, 'd1', [{ id: 'm1', to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 }]);
    // The first copy's answer recorded, then (as after a response timeout) a second copy sent.
    await recordAnswers(s.db, [segment('A1', 1, false)]);
    await recordSubmits(s.db, [segment('A1', 1, false)], []);
    await recordAnswers(s.db, [segment('B2', 2, true)]);
    const submitted = await recordSubmits(s.db, [segment('B2', 2, true)], [
      { id: 'm1', status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1, route: 'default' },
    ]);
    expect(submitted.map((c) => [c.status, c.possibleDuplicate])).toEqual([['submitted', true]]);

    const attempts = await s.db.selectFrom('submit_attempts').select(['attempt', 'smsc_message_id', 'match_key']).where('message_id', '=', 'm1').orderBy('attempt').execute();
    expect(attempts).toEqual([
      { attempt: 1, smsc_message_id: 'A1', match_key: 'a1' },
      { attempt: 2, smsc_message_id: 'B2', match_key: 'b2' },
    ]);

    const first = await storeReceipts(s.db, [receipt('A1', 'UNDELIV', 'undeliverable')]);
    expect(first.matched).toBe(1);
    expect(first.changes.map((c) => [c.previous, c.status, c.possibleDuplicate])).toEqual([['submitted', 'undeliverable', true]]);
    const second = await storeReceipts(s.db, [receipt('B2', 'DELIVRD', 'delivered')]);
    expect(second.matched).toBe(1);
    expect(second.changes.map((c) => [c.previous, c.status, c.errorCode ?? null])).toEqual([['undeliverable', 'delivered', null]]);

    const message = await s.db.selectFrom('messages').select(['status', 'possible_duplicate', 'error_code', 'delivered_segments']).where('id', '=', 'm1').executeTakeFirstOrThrow();
    expect(message).toEqual({ status: 'delivered', possible_duplicate: true, error_code: null, delivered_segments: 1 });
    const matched = await s.db.selectFrom('receipts').select(['smsc_message_id', 'message_id']).orderBy('id').execute();
    expect(matched).toEqual([
      { smsc_message_id: 'A1', message_id: 'm1' },
      { smsc_message_id: 'B2', message_id: 'm1' },
    ]);
    expect(await countUnmatched(s.db, 0)).toBe(0);

    // A worse report after the best one changes nothing.
    const third = await storeReceipts(s.db, [receipt('A1', 'EXPIRED', 'expired')]);
    expect(third.changes).toEqual([]);
    expect((await s.db.selectFrom('messages').select('status').where('id', '=', 'm1').executeTakeFirstOrThrow()).status).toBe('delivered');
  });

  it('a message never sent twice keeps its first final status (forward only)', async () => {
    await insertMessages(s.db, 'd1', [{ id: 'm1', to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 }]);
    await recordAnswers(s.db, [segment('A1', 1, false)]);
    await recordSubmits(s.db, [segment('A1', 1, false)], [{ id: 'm1', status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1, route: 'default' }]);
    await storeReceipts(s.db, [receipt('A1', 'UNDELIV', 'undeliverable')]);
    const later = await storeReceipts(s.db, [receipt('A1', 'DELIVRD', 'delivered')]);
    expect(later.changes).toEqual([]);
    expect((await s.db.selectFrom('messages').select('status').where('id', '=', 'm1').executeTakeFirstOrThrow()).status).toBe('undeliverable');
    expect((await s.db.selectFrom('segments').select('status').where('message_id', '=', 'm1').executeTakeFirstOrThrow()).status).toBe('undeliverable');
  });
});
