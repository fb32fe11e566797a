import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { sentinel } from '../../support/two-way.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('two-way: the loop end to end', () => {
  it('a reply YES to a reminder gets the expected answer; STOP gets one confirmation and blocks the next send', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' }],
        numbers: [{ address: '12345' }],
      }),
    );
    await h.send([
      {
        id: 'reminder',
        to: '+14155550101',
        text: 'Your appointment is tomorrow at 10:00. Reply YES to confirm.',
        replies: { YES: { reply: 'See you then!' } },
        metadata: { patient: 'Sam' },
      },
    ]);
    await h.until('reminder submitted', async () => (await h.acceptedCount('reminder')) === 1);
    const injected = sim.injectReply({ from: '14155550101', to: '12345', text: 'yes!' });
    expect(await injected.acked).toBe(true);
    await h.until('answer sent', () => sim.arrivals.some((a) => a.text === 'See you then!'));
    // The answer goes out before the reply's handling is recorded; wait for the record.
    await h.until('reply handled', async () => (await h.schema.db.selectFrom('replies').select('status').executeTakeFirst())?.status === 'handled');
    await h.until('inbound event', async () => (await h.redis.xlen(h.keys.inbound)) === 1);
    const reply = await h.schema.db.selectFrom('replies').selectAll().executeTakeFirstOrThrow();
    expect(reply).toMatchObject({
      from_addr: '14155550101',
      to_addr: '12345',
      body: 'yes!',
      status: 'handled',
      in_reply_to: 'reminder',
      matched_kind: 'expected_reply',
      keyword: 'YES',
      resolved_automatically: true,
    });
    const inbound = (await h.redis.xrange(h.keys.inbound, '-', '+')).map(([, f]) => JSON.parse(f[1]!));
    expect(inbound).toEqual([
      {
        type: 'message.inbound',
        id: reply.id,
        from: '14155550101',
        to: '12345',
        text: 'yes!',
        conversation_id: reply.conversation_id,
        in_reply_to: 'reminder',
        matched: { kind: 'expected_reply', keyword: 'YES', action: 'reply' },
        received_at: expect.any(String),
        intent: { name: 'yes', confidence: 0.97, via: 'words', choice: null, at: null, review: false, escalated: false },
      },
    ]);

    // The response time ends when the SMSC accepted the answer: the answer's submitted_at, found
    // through the reply's answer_message_id (as `parley report` reads it).
    await h.until('answer accepted', async () => {
      const r = await h.schema.db
        .selectFrom('replies')
        .innerJoin('messages', 'messages.id', 'replies.answer_message_id')
        .select(['messages.submitted_at', 'messages.reply_to'])
        .where('replies.id', '=', reply.id)
        .executeTakeFirst();
      return r?.submitted_at instanceof Date && r.reply_to === reply.id;
    });
    // A second YES still answers the reminder, not Parley's own answer to the first one.
    expect(await sim.injectReply({ from: '14155550101', to: '12345', text: 'Yes' }).acked).toBe(true);
    await h.until('second YES handled', async () => (await h.schema.db.selectFrom('replies').select('id').where('status', '=', 'handled').execute()).length === 2);
    const second = await h.schema.db.selectFrom('replies').selectAll().where('body', '=', 'Yes').executeTakeFirstOrThrow();
    expect(second).toMatchObject({ in_reply_to: 'reminder', matched_kind: 'expected_reply' });

    expect(await sim.injectReply({ from: '14155550101', to: '12345', text: 'STOP' }).acked).toBe(true);
    await h.until('confirmation sent', () => sim.arrivals.some((a) => a.text.startsWith('You are unsubscribed')));
    // A second STOP changes nothing and gets no second confirmation.
    expect(await sim.injectReply({ from: '14155550101', to: '12345', text: 'stop' }).acked).toBe(true);
    await h.until('second STOP handled', async () => (await h.schema.db.selectFrom('replies').select('id').where('status', '=', 'handled').execute()).length === 4);
    await h.send([{ id: 'blocked', to: '+14155550101', text: 'Big sale!' }]);
    await h.until('blocked send failed', async () => {
      const row = await h.schema.db.selectFrom('messages').select(['status', 'error_code']).where('id', '=', 'blocked').executeTakeFirst();
      return row?.status === 'failed' && row.error_code === 'opted_out';
    });
    await sentinel(h, sim);
    expect(sim.arrivals.filter((a) => a.text.startsWith('You are unsubscribed'))).toHaveLength(1);
    expect(sim.arrivals.some((a) => a.text === 'Big sale!')).toBe(false);
  }, 30_000);
});
