import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import type { ReceiptIdFormat } from '../../../src/simulator/index.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

async function statuses(h: Harness, like = '%'): Promise<Record<string, number>> {
  const rows = await h.schema.db
    .selectFrom('messages')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('id', 'like', like)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function unmatchedCount(h: Harness): Promise<number> {
  const row = await h.schema.db
    .selectFrom('receipts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('message_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('receipt matching', () => {
  it('1,000 messages with hex ids in responses and decimal ids in receipts are all matched and delivered', async () => {
    const sim = await h.startSim({ idFormat: 'hex', receiptIdFormat: 'decimal', receiptForm: 'text', receiptDelayMs: [20, 200] });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 5000, default_from: '12345' }],
      }),
    );
    await h.send(Array.from({ length: 1000 }, (_, i) => ({ id: `d${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `receipt ${i}` })));
    await h.until('all delivered', async () => (await statuses(h)).delivered === 1000, 60_000);
    expect(await unmatchedCount(h)).toBe(0);
    const receipts = await h.schema.db.selectFrom('receipts').select(['smsc_message_id', 'message_id', 'state']).execute();
    expect(receipts).toHaveLength(1000);
    // The receipts really carried decimal ids while the responses were hex.
    const segments = await h.schema.db.selectFrom('segments').select(['message_id', 'smsc_message_id']).execute();
    const hexOf = new Map(segments.map((s) => [s.message_id, s.smsc_message_id!]));
    for (const r of receipts) {
      expect(r.smsc_message_id).toMatch(/^\d+$/);
      expect(BigInt(r.smsc_message_id)).toBe(BigInt(`0x${hexOf.get(r.message_id!)}`));
      expect(r.state).toBe('DELIVERED');
    }
    const delivered = await h.schema.db.selectFrom('messages').select('delivered_segments').where('id', '=', 'd0').executeTakeFirstOrThrow();
    expect(delivered.delivered_segments).toBe(1);
  }, 90_000);

  it.each([
    ['same', 'exact'],
    ['decimal', 'hex_to_decimal'],
    ['uppercase', 'case'],
    ['leading_zeros', 'leading_zeros'],
    ['same', 'auto'],
    ['decimal', 'auto'],
    ['uppercase', 'auto'],
    ['leading_zeros', 'auto'],
  ] as [ReceiptIdFormat, string][])('receipt ids written %s match with id_format %s', async (receiptIdFormat, idFormat) => {
    const sim = await h.startSim({ idFormat: 'hex', receiptIdFormat, receiptForm: 'text', receiptDelayMs: 10 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim, { id_format: idFormat })],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
      }),
    );
    await h.send(Array.from({ length: 20 }, (_, i) => ({ id: `f${i}`, to: `+1415555${String(i).padStart(4, '0')}`, text: 'x' })));
    await h.until('all delivered', async () => (await statuses(h)).delivered === 20);
    expect(await unmatchedCount(h)).toBe(0);
  });

  it('the decimal-to-hex direction (decimal responses, hex receipts) matches too', async () => {
    const sim = await h.startSim({ idFormat: 'decimal', receiptIdFormat: 'hex', receiptForm: 'text', receiptDelayMs: 10 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim, { id_format: 'decimal_to_hex' })],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
      }),
    );
    await h.send(Array.from({ length: 20 }, (_, i) => ({ id: `x${i}`, to: `+1415555${String(i).padStart(4, '0')}`, text: 'x' })));
    await h.until('all delivered', async () => (await statuses(h)).delivered === 20);
  });

  it('receipts sent before their responses, on a transmitter+receiver pair, are all matched', async () => {
    const sim = await h.startSim({ idFormat: 'hex', receiptBeforeResponse: true, receiptBeforeResponseMaxWaitMs: 200 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim, { bind: 'transmitter+receiver' })],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 2000, default_from: '12345' }],
      }),
    );
    await h.until('both binds up', () => sim.binds.length === 2);
    await h.send(Array.from({ length: 300 }, (_, i) => ({ id: `e${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `early ${i}` })));
    await h.until('all delivered', async () => (await statuses(h)).delivered === 300, 30_000);
    expect(await unmatchedCount(h)).toBe(0);
    // The receipts really came first: each was stored before its segment's response was recorded.
    const early = await h.schema.db
      .selectFrom('receipts as r')
      .innerJoin('segments as s', (j) => j.onRef('s.message_id', '=', 'r.message_id').onRef('s.seq', '=', 'r.seq'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .whereRef('r.received_at', '<=', 's.responded_at')
      .executeTakeFirstOrThrow();
    expect(Number(early.n)).toBeGreaterThan(0);
  });

  it('a multipart message with only some parts delivered is partially_delivered, with the error kept', async () => {
    const sim = await h.startSim({
      receiptDelayMs: 20,
      pickReceiptStat: (a) => (a.destination.endsWith('2') && a.concat?.seq === 2 ? 'UNDELIV' : 'DELIVRD'),
    });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
      }),
    );
    const long = 'part '.repeat(80); // 400 GSM chars: 3 parts
    await h.send([
      { id: 'all', to: '+14155550001', text: long },
      { id: 'some', to: '+14155550002', text: long },
    ]);
    await h.until('both final', async () => {
      const s = await statuses(h);
      return s.delivered === 1 && s.partially_delivered === 1;
    });
    const some = await h.schema.db.selectFrom('messages').selectAll().where('id', '=', 'some').executeTakeFirstOrThrow();
    expect(some).toMatchObject({ status: 'partially_delivered', segments: 3, delivered_segments: 2 });
    // The final event carries the SMSC and the error the message row keeps.
    expect(some.error_code).toMatch(/^receipt_err:/);
    const last = (await readStatusHistory(h.schema.db, ['some'])).at(-1);
    expect({ status: last?.status, detail: last?.detail }).toEqual({ status: 'partially_delivered', detail: { smsc: 'sim', error_code: some.error_code, error_reason: some.error_reason } });
    const segs = await h.schema.db.selectFrom('segments').select(['seq', 'status', 'receipt_state']).where('message_id', '=', 'some').orderBy('seq').execute();
    expect(segs).toEqual([
      { seq: 1, status: 'delivered', receipt_state: 'DELIVERED' },
      { seq: 2, status: 'undeliverable', receipt_state: 'UNDELIVERABLE' },
      { seq: 3, status: 'delivered', receipt_state: 'DELIVERED' },
    ]);
  });

  it('intermediate receipts are history; they never overwrite a final state', async () => {
    const sim = await h.startSim({ receiptDelayMs: 100, receiptIntermediate: true });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
      }),
    );
    await h.send([{ id: 'i1', to: '+14155550001', text: 'hello' }]);
    await h.until('delivered', async () => (await statuses(h)).delivered === 1);
    const receipts = await h.schema.db.selectFrom('receipts').select(['state', 'final']).where('message_id', '=', 'i1').orderBy('id').execute();
    expect(receipts).toEqual([
      { state: 'ENROUTE', final: false },
      { state: 'DELIVERED', final: true },
    ]);
    const events = await readStatusHistory(h.schema.db, ['i1']);
    expect(events.map(({ status, previous, detail }) => ({ status, previous, detail }))).toEqual([
      { status: 'queued', previous: null, detail: null },
      { status: 'submitted', previous: 'queued', detail: { smsc: 'sim' } },
      { status: 'delivered', previous: 'submitted', detail: { smsc: 'sim' } },
    ]);
  });
});
