/**
 * What a batch of new messages records with the insert's own statement: a history that starts
 * `queued` for each message inserted, then the final status of one refused before sending, in
 * that order, both read off its row (no event row); none for an id already stored (an app's retry). The same statement opens or continues each pair's
 * conversation with the last message of the pair it actually inserted; with status webhooks the
 * deliveries are written in the same transaction, for the inserted messages only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';
import { setOptOut } from '../../../src/store/opt-outs.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

let s: TestSchema;
beforeEach(async () => {
  s = await freshSchema();
});
afterEach(async () => {
  await s.drop();
});

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
