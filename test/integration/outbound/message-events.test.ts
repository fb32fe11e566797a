/**
 * The events a batch of new messages records, written by the insert's own statement: one
 * `queued` per message inserted, then the final status of one refused before sending, in that
 * order; none for an id already stored (an app's retry).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertMessages } from '../../../src/store/messages.ts';
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
    const events = await s.db.selectFrom('message_events').select(['message_id', 'status', 'previous', 'detail']).orderBy('id').execute();
    expect(events).toEqual([
      { message_id: 'old', status: 'queued', previous: null, detail: null },
      { message_id: 'new', status: 'queued', previous: null, detail: null },
      { message_id: 'late', status: 'queued', previous: null, detail: null },
      { message_id: 'late', status: 'failed', previous: 'queued', detail: { error_code: 'expired', error_reason: 'its expires_at passed before it was sent' } },
    ]);
    const late = await s.db.selectFrom('messages').select(['status', 'error_code']).where('id', '=', 'late').executeTakeFirstOrThrow();
    expect(late).toEqual({ status: 'failed', error_code: 'expired' });
  });
});
