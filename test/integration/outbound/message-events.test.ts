/**
 * What a batch of new messages records with the insert's own statement: a history that starts
 * `queued` for each message inserted, then the final status of one refused before sending, in
 * that order, both read off its row (no event row); none for an id already stored (an app's
 * retry). The same statement opens or continues each pair's conversation with the last message of
 * the pair it actually inserted; with status webhooks the deliveries are written in the same
 * transaction, for the inserted messages only.
 *
 * Then a message's whole history read off its row (store/row-events.ts): submitted at
 * submitted_at, its final status at final_at, and no event row written for them. A final status
 * that a possible duplicate's better report replaces is the one event stored, at its own time;
 * rows stored before this (every event a row) read the same, without doubles.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { applyChanges } from '../../../src/store/status-changes.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';
import { setOptOut } from '../../../src/store/opt-outs.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

const s = freshSchemaPerTest();

const message = (id: string): RoutedMessage => ({ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 });

describe('events of inserted messages', () => {
  it('queued for each new message, then the final status of one refused before sending; nothing for a retried id', async () => {
    await insertMessages(s.db, 'd1', [message('old')]);
    const refusal = { id: 'late', status: 'failed' as const, previous: 'queued' as const, errorCode: 'expired', errorReason: 'its expires_at passed before it was sent' };
    const { inserted, changes } = await insertMessages(s.db, 'd1', [message('old'), message('new')], [{ message: message('late'), change: refusal }]);
    expect([...inserted].sort()).toEqual(['late', 'new']);
    expect(changes.map((c) => [c.id, c.previous, c.status])).toEqual([
      ['new', null, 'queued'],
      ['late', null, 'queued'],
      ['late', 'queued', 'failed'],
    ]);
    // The history: every message starts queued, then what its row says since (read off the row).
    const history = await readStatusHistory(s.db, ['old', 'new', 'late']);
    expect(history.map(({ messageId, eventId, status, previous, detail }) => ({ messageId, eventId, status, previous, detail }))).toEqual([
      { messageId: 'old', eventId: '0', status: 'queued', previous: null, detail: null },
      { messageId: 'new', eventId: '0', status: 'queued', previous: null, detail: null },
      { messageId: 'late', eventId: '0', status: 'queued', previous: null, detail: null },
      { messageId: 'late', eventId: 'failed', status: 'failed', previous: 'queued', detail: { error_code: 'expired', error_reason: 'its expires_at passed before it was sent' } },
    ]);
    // The first event at the row's created_at, the final one at its final_at.
    const rows = await s.db.selectFrom('messages').select(['id', 'created_at', 'final_at']).execute();
    for (const h of history) {
      const row = rows.find((m) => m.id === h.messageId);
      expect(h.at).toEqual(h.status === 'queued' ? row?.created_at : row?.final_at);
    }
    // No event is a row: the message's row holds them all.
    expect(await s.db.selectFrom('message_events').select(['message_id', 'status']).execute()).toEqual([]);
    const late = await s.db.selectFrom('messages').select(['status', 'error_code']).where('id', '=', 'late').executeTakeFirstOrThrow();
    expect(late).toEqual({ status: 'failed', error_code: 'expired' });
  });

  it('opens or continues the conversation with the last message inserted per pair, and skips an opted-out customer', async () => {
    const to = (id: string, customer: string): RoutedMessage => ({ ...message(id), to: customer });
    await insertMessages(s.db, 'd1', [to('a1', '+14155550001')], [], { conversationTtlSeconds: 600 });
    await setOptOut(s.db, { customer: '+14155550003', scope: '12345', optedOut: true, keyword: 'STOP', replyId: 'r-1' });
    // a2 is new; a1 again is an app's retry (not inserted), though it comes last for that pair.
    const { inserted, changes } = await insertMessages(
      s.db,
      'd1',
      [to('a2', '+14155550001'), to('a1', '+14155550001'), to('b1', '+14155550002'), to('c1', '+14155550003')],
      [],
      { conversationTtlSeconds: 600 },
    );
    expect([...inserted].sort()).toEqual(['a2', 'b1', 'c1']);
    expect(changes.filter((c) => c.id === 'c1').map((c) => [c.status, c.errorCode])).toEqual([
      ['queued', undefined],
      ['failed', 'opted_out'],
    ]);
    const conversations = await s.db.selectFrom('conversations').select(['customer', 'our_number', 'last_outbound_id']).orderBy('customer').execute();
    expect(conversations).toEqual([
      { customer: '+14155550001', our_number: '12345', last_outbound_id: 'a2' },
      { customer: '+14155550002', our_number: '12345', last_outbound_id: 'b1' },
    ]);
  });

  it('with status webhooks, writes a delivery per inserted message and none for a retried id', async () => {
    await insertMessages(s.db, 'd1', [message('old')]);
    const { inserted } = await insertMessages(s.db, 'd1', [message('old'), message('new')], [], { statusWebhooks: ['crm'] });
    expect([...inserted]).toEqual(['new']);
    const deliveries = await s.db.selectFrom('webhook_deliveries').select(['webhook', 'event_type', 'body']).execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ webhook: 'crm', event_type: 'message.status', body: { id: 'new', status: 'queued' } });
  });
});

const row = (id: string) =>
  s.db.selectFrom('messages').select(['created_at', 'submitted_at', 'final_at']).where('id', '=', id).executeTakeFirstOrThrow();
const eventRows = () => s.db.selectFrom('message_events').select(['message_id', 'status', 'previous', 'at', 'detail']).orderBy('id').execute();
const summary = async (id: string) =>
  (await readStatusHistory(s.db, [id])).map(({ eventId, status, previous, detail }) => ({ eventId, status, previous, detail }));

describe('a message history read off its row', () => {
  it('queued, submitted and delivered with their times and SMSC, and no event row', async () => {
    await insertMessages(s.db, 'd1', [message('m1')]);
    await applyChanges(s.db, [{ id: 'm1', status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1 }]);
    await applyChanges(s.db, [{ id: 'm1', status: 'delivered', previous: 'submitted', deliveredSegments: 1 }]);
    expect(await summary('m1')).toEqual([
      { eventId: '0', status: 'queued', previous: null, detail: null },
      { eventId: 'submitted', status: 'submitted', previous: 'queued', detail: { smsc: 'sim' } },
      { eventId: 'delivered', status: 'delivered', previous: 'submitted', detail: { smsc: 'sim' } },
    ]);
    const times = (await readStatusHistory(s.db, ['m1'])).map((e) => e.at);
    const r = await row('m1');
    expect(times).toEqual([r.created_at, r.submitted_at, r.final_at]);
    expect(await eventRows()).toEqual([]);
  });

  it('a final status replaced by a better report is stored once, at its time, and the history runs through it', async () => {
    await insertMessages(s.db, 'd1', [message('dup')]);
    await applyChanges(s.db, [{ id: 'dup', status: 'submitted', previous: 'queued', smsc: 'sim', segments: 1 }]);
    await applyChanges(s.db, [{ id: 'dup', status: 'expired', previous: 'submitted', errorCode: 'receipt_err:001', errorReason: 'segments: expired' }]);
    const expiredAt = (await row('dup')).final_at;
    await applyChanges(s.db, [{ id: 'dup', status: 'undeliverable', previous: 'expired', errorCode: 'receipt_err:002', errorReason: 'segments: undeliverable' }]);
    const undeliverableAt = (await row('dup')).final_at;
    await applyChanges(s.db, [{ id: 'dup', status: 'delivered', previous: 'undeliverable', deliveredSegments: 1 }]);
    // A change that no longer applies (the row moved on) stores nothing.
    expect(await applyChanges(s.db, [{ id: 'dup', status: 'delivered', previous: 'undeliverable' }])).toEqual([]);
    expect(await eventRows()).toEqual([
      { message_id: 'dup', status: 'expired', previous: 'submitted', at: expiredAt, detail: { smsc: 'sim', error_code: 'receipt_err:001', error_reason: 'segments: expired' } },
      {
        message_id: 'dup',
        status: 'undeliverable',
        previous: 'expired',
        at: undeliverableAt,
        detail: { smsc: 'sim', error_code: 'receipt_err:002', error_reason: 'segments: undeliverable' },
      },
    ]);
    const history = await summary('dup');
    expect(history.map((e) => [e.status, e.previous])).toEqual([
      ['queued', null],
      ['submitted', 'queued'],
      ['expired', 'submitted'],
      ['undeliverable', 'expired'],
      ['delivered', 'undeliverable'],
    ]);
    // The delivered one is the row's: a delivered message has no error.
    expect(history.at(-1)).toEqual({ eventId: 'delivered', status: 'delivered', previous: 'undeliverable', detail: { smsc: 'sim' } });
    expect(new Set(history.map((e) => e.eventId)).size).toBe(history.length);
  });

  it('reads a message whose events were stored as rows (before this) once each, with their ids', async () => {
    await insertMessages(s.db, 'd1', [message('old')]);
    // What earlier versions wrote: every change an event row, then the row changed to match.
    await sql`INSERT INTO message_events (message_id, status, previous, detail) VALUES
      ('old', 'queued', NULL, NULL), ('old', 'submitted', 'queued', '{"smsc":"sim"}'), ('old', 'undeliverable', 'submitted', '{"smsc":"sim"}')`.execute(s.db);
    await sql`UPDATE messages SET status = 'undeliverable', smsc = 'sim', submitted_at = now(), final_at = now() WHERE id = 'old'`.execute(s.db);
    const stored = await s.db.selectFrom('message_events').select(['id', 'status']).orderBy('id').execute();
    expect((await summary('old')).map((e) => [e.eventId, e.status])).toEqual([
      ['0', 'queued'],
      [String(stored[1]!.id), 'submitted'],
      [String(stored[2]!.id), 'undeliverable'],
    ]);
    // A better report now: the old final status is stored already, so it is not stored again.
    await applyChanges(s.db, [{ id: 'old', status: 'delivered', previous: 'undeliverable', deliveredSegments: 1 }]);
    expect(await s.db.selectFrom('message_events').select('status').where('previous', 'is not', null).orderBy('id').execute()).toEqual([
      { status: 'submitted' },
      { status: 'undeliverable' },
    ]);
    expect((await summary('old')).map((e) => [e.status, e.previous])).toEqual([
      ['queued', null],
      ['submitted', 'queued'],
      ['undeliverable', 'submitted'],
      ['delivered', 'undeliverable'],
    ]);
  });
});
