/**
 * storeReceipts applies a receipt for the only part of a submitted message in the statement that
 * stores it, and every other receipt the careful way (stored pending, then matched and applied
 * under its messages' row locks). Both ways must leave the same rows and report the same changes:
 * the same batch goes through storeReceipts in one schema and, in another, is stored pending and
 * applied by the rematch sweep, which only ever takes the careful way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertReceipts, storeReceipts } from '../../../src/store/receipts.ts';
import { rematchPendingReceipts } from '../../../src/store/pending-receipts.ts';
import type { SegmentRecord } from '../../../src/domain/segment.ts';
import type { StatusEventFacts } from '../../../src/domain/events.ts';
import { acceptedSegment, carrierReceipt, sentAndAnswered } from '../../support/receipt-records.ts';

let fast: TestSchema;
let careful: TestSchema;
beforeEach(async () => {
  [fast, careful] = await Promise.all([freshSchema(), freshSchema()]);
});
afterEach(async () => {
  await Promise.all([fast.drop(), careful.drop()]);
});

const twoParts = (seq: number, smscMessageId: string): SegmentRecord => ({ ...acceptedSegment('long', smscMessageId, { seq }), total: 2 });
const ANSWERS: SegmentRecord[] = [
  acceptedSegment('ok', 'A1'),
  acceptedSegment('failed', 'A2'),
  acceptedSegment('enroute', 'A3'),
  acceptedSegment('twice', 'A4'),
  twoParts(1, 'B1'),
  twoParts(2, 'B2'),
];

const BATCH = [
  carrierReceipt('A1', 'DELIVRD', 'delivered'),
  carrierReceipt('A2', 'UNDELIV', 'undeliverable'),
  carrierReceipt('A3', 'ENROUTE', undefined),
  // Two receipts for one part in one batch: the final one counts, whatever the order.
  carrierReceipt('A4', 'DELIVRD', 'delivered'),
  carrierReceipt('A4', 'ENROUTE', undefined),
  carrierReceipt('B1', 'DELIVRD', 'delivered'),
  carrierReceipt('B2', 'UNDELIV', 'undeliverable'),
  // Matches nothing: stays pending in both.
  carrierReceipt('NOBODY', 'DELIVRD', 'delivered'),
];

/** The messages sent and their answers recorded, as the dispatcher and the submit recorder do. */
const submitted = (s: TestSchema): Promise<void> => sentAndAnswered(s.db, ANSWERS);

async function rows(s: TestSchema) {
  const messages = await s.db
    .selectFrom('messages')
    .select(['id', 'status', 'delivered_segments', 'error_code', 'error_reason', 'owner'])
    .orderBy('id')
    .execute();
  const segments = await s.db.selectFrom('segments').select(['message_id', 'seq', 'status', 'receipt_state', 'error_code']).orderBy('message_id').orderBy('seq').execute();
  const events = await s.db.selectFrom('message_events').select(['message_id', 'status', 'previous', 'detail']).orderBy('message_id').orderBy('id').execute();
  const receipts = await s.db.selectFrom('receipts').select(['smsc_message_id', 'state', 'message_id', 'seq']).orderBy('smsc_message_id').orderBy('state').execute();
  return { messages, segments, events, receipts };
}

const reported = (changes: readonly StatusEventFacts[]) =>
  changes
    .map((c) => ({
      id: c.id,
      status: c.status,
      previous: c.previous,
      segments: c.segments,
      deliveredSegments: c.deliveredSegments,
      errorCode: c.errorCode ?? null,
      errorReason: c.errorReason ?? null,
      smsc: c.smsc,
      route: c.route,
      possibleDuplicate: c.possibleDuplicate,
      submitted: c.submittedAt instanceof Date,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

describe('storeReceipts, one statement for the only part of a message', () => {
  it('leaves the same rows and reports the same changes as the careful way', async () => {
    await Promise.all([submitted(fast), submitted(careful)]);

    const stored = await storeReceipts(fast.db, BATCH);
    await insertReceipts(careful.db, BATCH);
    const swept = await rematchPendingReceipts(careful.db, 60_000, 100);

    expect(stored.stored).toBe(BATCH.length);
    expect(stored.matched).toBe(BATCH.length - 1);
    expect(swept.matched).toBe(BATCH.length - 1);
    expect(reported(stored.changes)).toEqual(reported(swept.changes));
    expect(reported(stored.changes).map((c) => [c.id, c.status, c.errorCode, c.errorReason])).toEqual([
      ['failed', 'undeliverable', 'receipt_err:001', 'segments: undeliverable'],
      ['long', 'partially_delivered', 'receipt_err:001', 'segments: delivered, undeliverable'],
      ['ok', 'delivered', null, null],
      ['twice', 'delivered', null, null],
    ]);
    expect(await rows(fast)).toEqual(await rows(careful));

    // The receipts for a single part were stored, applied and settled by the transaction that
    // stored the batch (the receipt that matched nothing was stored by it too, and never changed):
    // receipt, segment and message carry its xmin. The parts of the longer message were stored
    // pending by it, then matched and applied by a second one.
    const xmins = await sql<{ smsc_message_id: string; first: boolean; applied_with_it: boolean }>`
      SELECT r.smsc_message_id, r.xmin::text = f.xmin::text AS first, (s.xmin::text = r.xmin::text AND m.xmin::text = r.xmin::text) AS applied_with_it
      FROM receipts r JOIN segments s ON s.message_id = r.message_id AND s.seq = r.seq JOIN messages m ON m.id = r.message_id,
        (SELECT xmin FROM receipts WHERE smsc_message_id = 'NOBODY') f
      WHERE r.segment_status IS NOT NULL
      ORDER BY 1`.execute(fast.db);
    expect(xmins.rows).toEqual([
      { smsc_message_id: 'A1', first: true, applied_with_it: true },
      { smsc_message_id: 'A2', first: true, applied_with_it: true },
      { smsc_message_id: 'A4', first: true, applied_with_it: true },
      { smsc_message_id: 'B1', first: false, applied_with_it: true },
      { smsc_message_id: 'B2', first: false, applied_with_it: true },
    ]);
    // A receipt keeps match keys only while it waits to be matched (they serve nothing else, and
    // they are what receipts_pending_keys holds): none when matched as it was stored, cleared when
    // matched later; the one that matched nothing keeps them.
    const keys = await sql<{ smsc_message_id: string; keys: number }>`
      SELECT smsc_message_id, sum(cardinality(match_keys))::int AS keys FROM receipts GROUP BY 1 ORDER BY 1`.execute(fast.db);
    expect(Object.fromEntries(keys.rows.map((r) => [r.smsc_message_id, r.keys > 0]))).toEqual({
      A1: false, A2: false, A3: false, A4: false, B1: false, B2: false, NOBODY: true,
    });
  });

  it('a receipt seen again changes nothing, and a late receipt for a final message goes the careful way to no effect', async () => {
    await submitted(fast);
    await storeReceipts(fast.db, BATCH);
    const before = await rows(fast);

    const again = await storeReceipts(fast.db, BATCH);
    expect(again).toEqual({ stored: 0, matched: 0, changes: [] });
    const late = await storeReceipts(fast.db, [carrierReceipt('A2', 'DELIVRD', 'delivered')]);
    expect(late).toEqual({ stored: 1, matched: 1, changes: [] });

    const after = await rows(fast);
    expect(after.messages).toEqual(before.messages);
    expect(after.segments).toEqual(before.segments);
    expect(after.events).toEqual(before.events);
  });
});
