/**
 * New messages and segments are inserted without ON CONFLICT (a row stored before is left out, or
 * updated, by the statement's own check), so the rare batch that meets a row its check could not
 * see fails with a unique violation and goes again as an upsert: the same id twice in one batch,
 * and a segment another transaction inserted while this one waited. Both end as ON CONFLICT would
 * have, with no error out of the store.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { backendPid, lockWaitSeen } from '../../support/services.ts';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages, recordAnswers } from '../../../src/store/messages.ts';
import { acceptedSegment } from '../../support/receipt-records.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

const s = freshSchemaPerTest();

const message = (id: string, text = 'hi'): RoutedMessage => ({ id, to: '+14155550001', from: '12345', text, route: 'default', dlr: true, priority: 0 });

describe('inserts that race', () => {
  it('the same id twice in one batch is inserted once, the first of the two, with its event', async () => {
    const { inserted, changes } = await insertMessages(s.db, 'd1', [message('twice', 'first'), message('once'), message('twice', 'second')]);
    expect([...inserted].sort()).toEqual(['once', 'twice']);
    expect(changes.map((c) => c.id)).toContain('twice');
    const rows = await s.db.selectFrom('messages').select(['id', 'body']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'once', body: 'hi' },
      { id: 'twice', body: 'first' },
    ]);
  });

  it('a segment inserted by another transaction while this batch waited is updated with this answer', async () => {
    await insertMessages(s.db, 'd1', [message('m1'), message('m2')]);
    const other = s.openPool(1);
    let answered: Promise<unknown> | undefined;
    let waited = false;
    await other.transaction().execute(async (tx) => {
      // Not committed yet: the batch's check cannot see it, and its insert waits on the key.
      await sql`INSERT INTO segments (message_id, seq, total, smsc, status, submitted_at) VALUES ('m1', 1, 1, 'sim', 'accepted', now())`.execute(tx);
      answered = recordAnswers(s.db, [acceptedSegment('m1', 'A1', { possibleDuplicate: true }), acceptedSegment('m2', 'A2')]);
      waited = await lockWaitSeen(s.db, 'transactionid', await backendPid(tx), 2000);
    });
    // The premise: the batch's insert waited for the other transaction's row.
    expect(waited).toBe(true);
    await answered;
    const segments = await s.db.selectFrom('segments').select(['message_id', 'smsc_message_id', 'possible_duplicate']).orderBy('message_id').execute();
    expect(segments).toEqual([
      { message_id: 'm1', smsc_message_id: 'A1', possible_duplicate: true },
      { message_id: 'm2', smsc_message_id: 'A2', possible_duplicate: false },
    ]);
    const attempts = await s.db.selectFrom('submit_attempts').select(['message_id', 'attempt']).orderBy('message_id').execute();
    expect(attempts).toEqual([
      { message_id: 'm1', attempt: 1 },
      { message_id: 'm2', attempt: 1 },
    ]);
  });
});
