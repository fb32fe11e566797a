/**
 * A message's status history read off its row (store/row-events.ts): queued at created_at,
 * submitted at submitted_at, its final status at final_at, and no event row written for them. A
 * final status that a possible duplicate's better report replaces is the one event stored, at its
 * own time; rows stored before this (every event a row) read the same, without doubles.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { applyChanges } from '../../../src/store/status-changes.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

let s: TestSchema;
beforeEach(async () => {
  s = await freshSchema();
});
afterEach(async () => {
  await s.drop();
});

const message = (id: string): RoutedMessage => ({ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 });
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
