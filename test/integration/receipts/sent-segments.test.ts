/**
 * A receipt whose segment the storing daemon sent lately names it (NewReceipt.sentSegment, from
 * RecentCarrierIds): storeReceipts then applies it without looking its carrier id up. The result
 * must be what the lookup gives: the same batch, named, through storeReceipts in one schema and,
 * in another, unnamed through the careful way (stored pending, matched by the rematch sweep). A
 * named segment the one statement must not apply (a part of a longer message) still goes the
 * careful way, by its keys; a name that turns out wrong costs the receipt nothing but the lookup.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertReceipts, storeReceipts } from '../../../src/store/receipts.ts';
import { rematchPendingReceipts } from '../../../src/store/pending-receipts.ts';
import type { SegmentRecord } from '../../../src/domain/segment.ts';
import type { NewReceipt } from '../../../src/domain/receipt.ts';
import type { StatusEventFacts } from '../../../src/domain/events.ts';
import { acceptedSegment, carrierReceipt, sentAndAnswered } from '../../support/receipt-records.ts';

let named: TestSchema;
let careful: TestSchema;
beforeEach(async () => {
  [named, careful] = await Promise.all([freshSchema(), freshSchema()]);
});
afterEach(async () => {
  await Promise.all([named.drop(), careful.drop()]);
});

const twoParts = (seq: number, smscMessageId: string): SegmentRecord => ({ ...acceptedSegment('long', smscMessageId, { seq }), total: 2 });
const ANSWERS: SegmentRecord[] = [acceptedSegment('ok', 'A1'), acceptedSegment('failed', 'A2'), acceptedSegment('enroute', 'A3'), twoParts(1, 'B1'), twoParts(2, 'B2')];

/** The messages sent and their answers recorded, as the dispatcher and the submit recorder do. */
const submitted = (s: TestSchema): Promise<void> => sentAndAnswered(s.db, ANSWERS);

/** The receipt naming the segment the daemon sent with that carrier id. */
function naming(receipt: NewReceipt): NewReceipt {
  const segment = ANSWERS.find((a) => a.smscMessageId === receipt.smscMessageId)!;
  return { ...receipt, sentSegment: { messageId: segment.messageId, seq: segment.seq } };
}

const BATCH = [
  carrierReceipt('A1', 'DELIVRD', 'delivered'),
  carrierReceipt('A2', 'UNDELIV', 'undeliverable'),
  carrierReceipt('A3', 'ENROUTE', undefined),
  carrierReceipt('B1', 'DELIVRD', 'delivered'),
  carrierReceipt('B2', 'UNDELIV', 'undeliverable'),
];

async function rows(s: TestSchema) {
  const messages = await s.db.selectFrom('messages').select(['id', 'status', 'delivered_segments', 'error_code', 'error_reason']).orderBy('id').execute();
  const segments = await s.db.selectFrom('segments').select(['message_id', 'seq', 'status', 'receipt_state', 'error_code']).orderBy('message_id').orderBy('seq').execute();
  const events = await s.db.selectFrom('message_events').select(['message_id', 'status', 'previous', 'detail']).orderBy('message_id').orderBy('id').execute();
  const receipts = await s.db
    .selectFrom('receipts')
    .select(['smsc_message_id', 'state', 'message_id', 'seq', 'match_keys'])
    .orderBy('smsc_message_id')
    .orderBy('state')
    .execute();
  return { messages, segments, events, receipts };
}

const outcomes = (changes: readonly StatusEventFacts[]) =>
  changes.map((c) => [c.id, c.status, c.errorCode ?? null, c.deliveredSegments]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe('storeReceipts with the segments the daemon named', () => {
  it('leaves the same rows and reports the same changes as the lookup', async () => {
    await Promise.all([submitted(named), submitted(careful)]);

    const stored = await storeReceipts(named.db, BATCH.map(naming));
    await insertReceipts(careful.db, BATCH);
    const swept = await rematchPendingReceipts(careful.db, 60_000, 100);

    expect(stored.matched).toBe(BATCH.length);
    expect(outcomes(stored.changes)).toEqual(outcomes(swept.changes));
    expect(outcomes(stored.changes)).toEqual([
      ['failed', 'undeliverable', 'receipt_err:001', 0],
      ['long', 'partially_delivered', 'receipt_err:001', 1],
      ['ok', 'delivered', null, 1],
    ]);
    expect(await rows(named)).toEqual(await rows(careful));
  });

  it('applies a named single part without its carrier id: the name is what matched it', async () => {
    await submitted(named);
    // The carrier's receipt gives an id that matches no answer (a form the SMSC's id_format does not
    // read): looked up, it stays pending; named, it settles its message.
    const unreadable = { ...carrierReceipt('A1-elsewhere', 'DELIVRD', 'delivered'), sentSegment: { messageId: 'ok', seq: 1 } };
    const stored = await storeReceipts(named.db, [unreadable]);
    expect(outcomes(stored.changes)).toEqual([['ok', 'delivered', null, 1]]);
    const receipt = await named.db.selectFrom('receipts').select(['message_id', 'seq', 'match_keys']).executeTakeFirstOrThrow();
    expect(receipt).toEqual({ message_id: 'ok', seq: 1, match_keys: [] });
  });

  it('a name the statement cannot apply leaves the receipt to the lookup by its keys', async () => {
    await submitted(named);
    // Named a message that is not there (purged since, say): stored pending with its keys and
    // matched by them, to the segment that really has that carrier id.
    const misnamed = { ...carrierReceipt('A2', 'UNDELIV', 'undeliverable'), sentSegment: { messageId: 'gone', seq: 1 } };
    const stored = await storeReceipts(named.db, [misnamed]);
    expect(stored.matched).toBe(1);
    expect(outcomes(stored.changes)).toEqual([['failed', 'undeliverable', 'receipt_err:001', 0]]);
    const receipt = await named.db.selectFrom('receipts').select(['message_id', 'seq', 'match_keys']).executeTakeFirstOrThrow();
    expect(receipt).toEqual({ message_id: 'failed', seq: 1, match_keys: [] });
  });
});
