/**
 * The HTTP API against the real Postgres, Redis and the simulator: sends over HTTP and the stream
 * with the same id go out once; every 4xx reason; a conversation read back after a scripted
 * exchange, with assignment (automation stands aside), an agent's answer, hand back and close; the
 * event stream resumed after a disconnect with nothing lost or repeated.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTwoWayHarness } from '../../support/two-way.ts';
import type { Harness } from '../../support/daemon.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { OPENAPI } from '../../../src/api/openapi.ts';
import { call, followEvents, startApiDaemon, type ApiDaemon, type SseEvent } from '../../support/api.ts';

let h: Harness;
let sim: Simulator;
let api: ApiDaemon;
const startApi = async (): Promise<void> => {
  h = await createTwoWayHarness();
  sim = await h.startSim({ receiptDelayMs: 20 });
  api = await startApiDaemon(h, sim);
};
const stopApi = (): Promise<void> => h.close();
/** A daemon of its own for each test of the describe this is called in. */
const apiPerTest = (): void => {
  beforeEach(startApi);
  afterEach(stopApi);
};

const arrived = (text: string): number => sim.arrivals.filter((a) => a.text === text).length;

describe('HTTP API: sending', () => {
  apiPerTest();
  it('one id sent over HTTP and over the stream is stored and sent once, whichever comes first', async () => {
    const first = await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'both-1', to: '+14155550101', text: 'HTTP first' });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: 'both-1', duplicate: false, status: 'queued', error: null });
    await h.send([{ id: 'both-1', to: '+14155550101', text: 'HTTP first' }]);

    await h.send([{ id: 'both-2', to: '+14155550102', text: 'stream first' }]);
    await h.until('stream entry stored', async () => (await h.schema.db.selectFrom('messages').select('id').where('id', '=', 'both-2').executeTakeFirst()) !== undefined);
    const second = await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'both-2', to: '+14155550102', text: 'stream first' });
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ id: 'both-2', duplicate: true });

    // A second HTTP send of the same id is a duplicate too.
    expect((await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'both-1', to: '+14155550101', text: 'HTTP first' })).body.duplicate).toBe(true);

    await h.until('both delivered', async () => {
      const rows = await h.schema.db.selectFrom('messages').select('status').where('id', 'in', ['both-1', 'both-2']).execute();
      return rows.length === 2 && rows.every((r) => r.status === 'delivered');
    });
    // Every stream entry is settled, so nothing is left that could still send a copy.
    await h.until('stream settled', async () => ((await h.redis.xpending(h.keys.outbound, 'parley')) as [number])[0] === 0);
    expect(arrived('HTTP first')).toBe(1);
    expect(arrived('stream first')).toBe(1);
    expect(await h.schema.db.selectFrom('messages').select('id').execute()).toHaveLength(2);

    // The timeline `parley status` shows.
    const timeline = await call(api.base, api.tokens.read, 'GET', '/v1/messages/both-1');
    expect(timeline.status).toBe(200);
    expect(timeline.body.message).toMatchObject({ id: 'both-1', to: '14155550101', from: '12345', status: 'delivered', segments: 1, delivered_segments: 1 });
    expect(timeline.body.history.map((e: { status: string }) => e.status)).toEqual(['queued', 'submitted', 'delivered']);
    expect(timeline.body.receipts).toEqual([expect.objectContaining({ state: 'DELIVERED', final: true, seq: 1 })]);
    expect(timeline.body.segments).toEqual([expect.objectContaining({ seq: 1, status: 'delivered', receipt_state: 'DELIVERED' })]);
  });

  it('a generated id is answered, and an opted-out customer gets a failed status with the reason', async () => {
    const sent = await call(api.base, api.tokens.send, 'POST', '/v1/messages', { to: '+14155550103', text: 'no id given' });
    expect(sent.status).toBe(202);
    expect(sent.body.id).toMatch(/^h-[0-9a-f-]{36}$/);
    await h.until('sent', () => arrived('no id given') === 1);

    expect(await sim.injectReply({ from: '14155550103', to: '12345', text: 'STOP' }).acked).toBe(true);
    await h.until('opted out', async () => (await h.schema.db.selectFrom('opt_outs').select('opted_out').executeTakeFirst())?.opted_out === true);
    const refused = await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'after-stop', to: '+14155550103', text: 'sale!' });
    expect(refused.status).toBe(202);
    expect(refused.body).toMatchObject({ id: 'after-stop', duplicate: false, status: 'failed', error: { code: 'opted_out' } });
  });
});

describe('HTTP API: every 4xx reason', () => {
  // One daemon for these: a refused request changes nothing, and the one test that opens and
  // closes a conversation uses a customer of its own (each case was a daemon started for one
  // request, about 1 s each).
  beforeAll(startApi);
  afterAll(stopApi);
  const longText = 'x'.repeat(255 * 160);
  // The stream's dead-letter reasons, from the one validator, and intake's refusals.
  it.each<[string, number, string, unknown]>([
    ['not JSON', 400, 'invalid_json', '{"to": '],
    ['not an object', 400, 'invalid_json', '[1]'],
    ['a bad id', 400, 'invalid_id', { id: '', to: '+14155550101', text: 'x' }],
    ['no to', 400, 'invalid_to', { text: 'x' }],
    ['a bad to', 400, 'invalid_to', { to: 'call me', text: 'x' }],
    ['a bad from', 400, 'invalid_from', { to: '+14155550101', from: 'much-too-long-sender', text: 'x' }],
    ['no text', 400, 'empty_text', { to: '+14155550101' }],
    ['a text that is not a string', 400, 'invalid_text', { to: '+14155550101', text: 5 }],
    ['a text too long for 255 parts (validator)', 400, 'invalid_text', { to: '+14155550101', text: `${longText}x` }],
    ['a text too long for 255 parts (intake)', 400, 'too_many_parts', { to: '+14155550101', text: 'ж'.repeat(255 * 67 + 1) }],
    ['a bad route', 400, 'invalid_route', { to: '+14155550101', text: 'x', route: '' }],
    ['an unknown route', 400, 'unknown_route', { to: '+14155550101', text: 'x', route: 'nowhere' }],
    ['a bad dlr', 400, 'invalid_dlr', { to: '+14155550101', text: 'x', dlr: 'yes' }],
    ['a bad validity', 400, 'invalid_validity', { to: '+14155550101', text: 'x', validity: -1 }],
    ['a bad priority', 400, 'invalid_priority', { to: '+14155550101', text: 'x', priority: 9 }],
    ['a bad conversation', 400, 'invalid_conversation', { to: '+14155550101', text: 'x', conversation: { ttl: 'long' } }],
    ['bad replies', 400, 'invalid_replies', { to: '+14155550101', text: 'x', replies: { YES: 'ok' } }],
    ['bad metadata', 400, 'invalid_metadata', { to: '+14155550101', text: 'x', metadata: [1] }],
  ])('POST /v1/messages with %s: %i %s', async (_what, status, code, body) => {
    const res = await call(api.base, api.tokens.send, 'POST', '/v1/messages', body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, reason: expect.any(String) } });
    expect(res.body.error.reason.length).toBeGreaterThan(10);
  });

  it('refuses what is not a JSON request, an unknown path or method, and names that match nothing', async () => {
    const expectRefusal = async (p: Promise<{ status: number; body: { error: { code: string } } }>, status: number, code: string): Promise<void> => {
      const res = await p;
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status, code });
    };
    const t = api.tokens.all;
    await expectRefusal(call(api.base, t, 'POST', '/v1/messages', 'to=1&text=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    await expectRefusal(call(api.base, t, 'POST', '/v1/messages', JSON.stringify({ to: '+1415', text: 'x'.repeat(1024 * 1024) })), 413, 'payload_too_large');
    await expectRefusal(call(api.base, t, 'GET', '/v1/messages/no-such-id'), 404, 'message_not_found');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations/424242'), 404, 'conversation_not_found');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations/abc'), 404, 'conversation_not_found');
    await expectRefusal(call(api.base, t, 'POST', '/v1/conversations/424242/assign', {}), 404, 'conversation_not_found');
    await expectRefusal(call(api.base, t, 'GET', '/v1/nothing'), 404, 'not_found');
    const wrongMethod = await call(api.base, t, 'DELETE', '/v1/messages');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?unanswered=maybe'), 400, 'invalid_query');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?colour=red'), 400, 'invalid_query');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?customer=nobody'), 400, 'invalid_query');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?status=sleeping'), 400, 'invalid_query');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?limit=0'), 400, 'invalid_query');
    await expectRefusal(call(api.base, t, 'GET', '/v1/conversations?cursor=bm90LWEtY3Vyc29y'), 400, 'invalid_cursor');
    await expectRefusal(call(api.base, t, 'GET', '/v1/events', undefined, { 'last-event-id': 'yesterday' }), 400, 'invalid_last_event_id');

    // An ended conversation cannot be assigned or answered; a bad agent name is refused.
    await call(api.base, t, 'POST', '/v1/messages', { id: 'open-it', to: '+14155550109', text: 'hello' });
    const list = await call(api.base, t, 'GET', '/v1/conversations?customer=%2B14155550109');
    const id = list.body.conversations[0].id as string;
    await expectRefusal(call(api.base, t, 'POST', `/v1/conversations/${id}/assign`, { agent: 5 }), 400, 'invalid_agent');
    await expectRefusal(call(api.base, t, 'POST', `/v1/conversations/${id}/messages`, { text: '' }), 400, 'empty_text');
    await expectRefusal(call(api.base, t, 'POST', `/v1/conversations/${id}/messages`, '{nope'), 400, 'invalid_json');
    expect((await call(api.base, t, 'POST', `/v1/conversations/${id}/close`)).status).toBe(200);
    await expectRefusal(call(api.base, t, 'POST', `/v1/conversations/${id}/assign`, {}), 409, 'conversation_ended');
    await expectRefusal(call(api.base, t, 'POST', `/v1/conversations/${id}/messages`, { text: 'hi' }), 409, 'conversation_ended');
  });

  it('serves the OpenAPI document it is described by', async () => {
    const res = await call(api.base, undefined, 'GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
  });
});

describe('HTTP API: conversations', () => {
  apiPerTest();
  it('reads back a scripted exchange; assigned, automation stands aside; handed back, it answers again; closed, the next message opens a new one', async () => {
    const customer = '14155550201';
    const t = api.tokens.agent;
    await call(api.base, api.tokens.send, 'POST', '/v1/messages', {
      id: 'reminder',
      to: `+${customer}`,
      text: 'Your appointment is tomorrow. Reply YES to confirm.',
      replies: { YES: { reply: 'See you then!' } },
      conversation: { tags: { campaign: 'spring' } },
    });
    await h.until('reminder delivered', async () => (await call(api.base, t, 'GET', '/v1/messages/reminder')).body.message?.status === 'delivered');
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'yes' }).acked).toBe(true);
    await h.until('automatic answer', () => arrived('See you then!') === 1);
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'Can I bring my dog?' }).acked).toBe(true);
    await h.until('question handled', async () => (await h.schema.db.selectFrom('replies').select('id').where('status', '=', 'handled').execute()).length === 2);

    // The list: filters, and the conversation waiting for an answer.
    const listed = await call(api.base, t, 'GET', `/v1/conversations?customer=%2B${customer}`);
    expect(listed.status).toBe(200);
    expect(listed.body.conversations).toHaveLength(1);
    const c = listed.body.conversations[0];
    expect(c).toMatchObject({ customer, our_number: '12345', status: 'open', unanswered: true, assigned_to: null, tags: { campaign: 'spring' } });
    expect(c.last).toMatchObject({ direction: 'in', text: 'Can I bring my dog?' });
    const ids = async (query: string): Promise<string[]> =>
      (await call(api.base, t, 'GET', `/v1/conversations?${query}`)).body.conversations.map((x: { id: string }) => x.id);
    expect(await ids('unanswered=true')).toEqual([c.id]);
    expect(await ids('unanswered=false')).toEqual([]);
    expect(await ids('tag=campaign:spring')).toEqual([c.id]);
    expect(await ids('tag=campaign')).toEqual([c.id]);
    expect(await ids('tag=campaign:autumn')).toEqual([]);
    expect(await ids('number=12345&status=open')).toEqual([c.id]);
    expect(await ids('number=54321')).toEqual([]);

    // The thread both ways, with receipts and how each customer message was matched.
    await h.until('answer delivered', async () => {
      const th = await call(api.base, t, 'GET', `/v1/conversations/${c.id}`);
      return th.body.entries.filter((e: { direction: string; status: string }) => e.direction === 'out' && e.status === 'delivered').length === 2;
    });
    const thread = await call(api.base, t, 'GET', `/v1/conversations/${c.id}`);
    expect(thread.body.opted_out).toBe(false);
    expect(thread.body.total).toBe(4);
    expect(thread.body.entries.map((e: { direction: string; text: string }) => [e.direction, e.text])).toEqual([
      ['out', 'Your appointment is tomorrow. Reply YES to confirm.'],
      ['in', 'yes'],
      ['out', 'See you then!'],
      ['in', 'Can I bring my dog?'],
    ]);
    const [reminder, yes, answer, question] = thread.body.entries;
    expect(reminder).toMatchObject({ id: 'reminder', status: 'delivered', segments: 1, delivered_segments: 1, receipts: [{ state: 'DELIVERED', final: true }] });
    expect(yes).toMatchObject({ matched_kind: 'expected_reply', keyword: 'YES', in_reply_to: 'reminder', actions: [expect.objectContaining({ kind: 'reply' })] });
    expect(answer).toMatchObject({ reply_to: yes.id, status: 'delivered', receipts: [expect.objectContaining({ state: 'DELIVERED' })] });
    expect(question).toMatchObject({ matched_kind: 'none', status: 'handled', answer_message_id: null });

    // Assigned: a keyword that automation answers goes to the person instead.
    const assigned = await call(api.base, t, 'POST', `/v1/conversations/${c.id}/assign`);
    expect(assigned.body).toMatchObject({ id: c.id, status: 'assigned', assigned_to: 'alice' });
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'HOURS' }).acked).toBe(true);
    await h.until('HOURS handled', async () => (await h.schema.db.selectFrom('replies').select('id').where('status', '=', 'handled').execute()).length === 3);
    const hours = await h.schema.db.selectFrom('replies').selectAll().where('body', '=', 'HOURS').executeTakeFirstOrThrow();
    expect(hours).toMatchObject({ matched_kind: 'none', answer_message_id: null, actions: [{ kind: 'hand_to_apps', assigned_to: 'alice' }] });
    expect(arrived('We are open 9-5.')).toBe(0);
    expect(await ids('unanswered=true&status=assigned')).toEqual([c.id]);

    // The agent answers: through intake to the customer, from our number.
    const sent = await call(api.base, t, 'POST', `/v1/conversations/${c.id}/messages`, { text: 'Yes, dogs are welcome.' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ duplicate: false, status: 'queued' });
    await h.until('agent answer arrives', () => arrived('Yes, dogs are welcome.') === 1);
    const arrival = sim.arrivals.find((a) => a.text === 'Yes, dogs are welcome.')!;
    expect({ from: arrival.source, to: arrival.destination }).toEqual({ from: '12345', to: customer });
    expect(await ids('unanswered=true')).toEqual([]);
    const agentMessage = await call(api.base, t, 'GET', `/v1/messages/${sent.body.id}`);
    expect(agentMessage.body.message.metadata).toEqual({ conversation_id: c.id, agent: 'alice' });

    // Handed back: automation answers again.
    const back = await call(api.base, t, 'POST', `/v1/conversations/${c.id}/handback`);
    expect(back.body).toMatchObject({ status: 'open', assigned_to: null });
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'hours' }).acked).toBe(true);
    await h.until('automation answers', () => arrived('We are open 9-5.') === 1);

    // Closed: the next customer message opens a new conversation.
    const closed = await call(api.base, t, 'POST', `/v1/conversations/${c.id}/close`);
    expect(closed.body).toMatchObject({ status: 'closed', assigned_to: null, unanswered: false });
    expect(closed.body.closed_at).toEqual(expect.any(String));
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'One more thing' }).acked).toBe(true);
    await h.until('new conversation', async () => (await ids(`customer=${customer}`)).length === 2);
    const both = (await call(api.base, t, 'GET', `/v1/conversations?customer=${customer}`)).body.conversations;
    expect(both.map((x: { status: string }) => x.status)).toEqual(['open', 'closed']);
    const fresh = await call(api.base, t, 'GET', `/v1/conversations/${both[0].id}`);
    expect(fresh.body.entries.map((e: { text: string }) => e.text)).toEqual(['One more thing']);
    // The closed conversation kept its own thread.
    expect((await call(api.base, t, 'GET', `/v1/conversations/${c.id}`)).body.total).toBe(8);
  });

  it("an agent's answer to a conversation whose window passed stays in that thread", async () => {
    const customer = '14155550251';
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'Anyone there?' }).acked).toBe(true);
    await h.until('handled', async () => (await h.schema.db.selectFrom('replies').select('status').executeTakeFirst())?.status === 'handled');
    const [c] = (await call(api.base, api.tokens.agent, 'GET', `/v1/conversations?customer=${customer}`)).body.conversations;
    // The window passes while the customer waits.
    await h.schema.db.updateTable('conversations').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', c.id).execute();
    expect((await call(api.base, api.tokens.agent, 'GET', `/v1/conversations/${c.id}`)).body.conversation.status).toBe('expired');
    const sent = await call(api.base, api.tokens.agent, 'POST', `/v1/conversations/${c.id}/messages`, { text: 'Sorry for the wait!' });
    expect(sent.status).toBe(202);
    const after = await call(api.base, api.tokens.agent, 'GET', `/v1/conversations?customer=${customer}`);
    expect(after.body.conversations.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[c.id, 'open']]);
    const thread = await call(api.base, api.tokens.agent, 'GET', `/v1/conversations/${c.id}`);
    expect(thread.body.entries.map((e: { text: string }) => e.text)).toEqual(['Anyone there?', 'Sorry for the wait!']);
    expect(thread.body.conversation.unanswered).toBe(false);
  });

  it('pages through conversations with a cursor, each once, newest activity first', async () => {
    const customers = ['14155550301', '14155550302', '14155550303', '14155550304', '14155550305'];
    for (const customer of customers) {
      await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: `p-${customer}`, to: customer, text: 'hi' });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { conversations: { customer: string }[]; next_cursor: string | null } } = await call(
        api.base,
        api.tokens.read,
        'GET',
        `/v1/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...res.body.conversations.map((x) => x.customer));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...customers].reverse());
  });
});

describe('HTTP API: events', () => {
  apiPerTest();
  it('resumes after a disconnect from Last-Event-ID with no event lost or repeated', async () => {
    const first = await followEvents(api.base, api.tokens.read);
    expect(first.status).toBe(200);
    await first.until((events) => events.some((e) => e.event === 'ready'));
    const start = first.events[0]!.id!;

    await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'ev-1', to: '+14155550401', text: 'first' });
    await first.until((events) => events.some((e) => e.event === 'message.status' && JSON.parse(e.data).id === 'ev-1'));
    await first.stop();
    const lastSeen = first.events[first.events.length - 1]!.id!;

    // While nobody follows: more status changes and a customer message.
    await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'ev-2', to: '+14155550402', text: 'second' });
    await h.until('ev-1 and ev-2 delivered', async () => {
      const rows = await h.schema.db.selectFrom('messages').select('status').where('id', 'in', ['ev-1', 'ev-2']).execute();
      return rows.length === 2 && rows.every((r) => r.status === 'delivered');
    });
    expect(await sim.injectReply({ from: '14155550402', to: '12345', text: 'thanks' }).acked).toBe(true);
    await h.until('inbound published', async () => (await h.redis.xlen(h.keys.inbound)) === 1);

    const second = await followEvents(api.base, api.tokens.read, lastSeen);
    expect(second.status).toBe(200);
    // Everything on the streams since the first connection's start, as Redis has it.
    const [startEvents, startInbound] = start.split(',');
    const expected = async (): Promise<string[]> => {
      const [events, inbound] = await Promise.all([
        h.redis.xrange(h.keys.events, `(${startEvents}`, '+'),
        h.redis.xrange(h.keys.inbound, `(${startInbound}`, '+'),
      ]);
      return [...events.map(([id]) => `message.status ${id}`), ...inbound.map(([id]) => `message.inbound ${id}`)].sort();
    };
    const entryOf = (e: SseEvent): string => {
      const [eventsId, inboundId] = e.id!.split(',');
      return `${e.event} ${e.event === 'message.status' ? eventsId : inboundId}`;
    };
    const received = (): string[] => [...first.events, ...second.events].filter((e) => e.event.startsWith('message.')).map(entryOf);
    const want = await expected();
    expect(want.length).toBeGreaterThanOrEqual(7); // ev-1 and ev-2: queued, submitted, delivered; the reply
    await second.until(() => received().length >= want.length);
    await second.stop();
    expect([...received()].sort()).toEqual(want);
    expect(new Set(received()).size).toBe(received().length);
    // The events carry the streams' JSON as it is.
    const reply = second.events.find((e) => e.event === 'message.inbound')!;
    expect(JSON.parse(reply.data)).toMatchObject({ type: 'message.inbound', from: '14155550402', to: '12345', text: 'thanks' });
  });
});
