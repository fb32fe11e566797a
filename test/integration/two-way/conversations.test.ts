/**
 * Conversations: a reply within the window joins the thread of the outbound message and is linked
 * to the latest message from that number to that customer; one customer answering two campaigns
 * from two numbers is in two conversations; a reply after the window opens a new one; an app's
 * answer through the outbound stream continues the thread.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, inboundEvents, replyRows, sleep, untilHandled } from '../../support/two-way.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

async function start(): Promise<Simulator> {
  const sim = await h.startSim({ receiptDelayMs: 20 });
  await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '12345' }],
      numbers: [{ address: '12345' }, { address: '67890' }],
    }),
  );
  return sim;
}

async function inject(sim: Simulator, from: string, to: string, text: string): Promise<void> {
  expect(await sim.injectReply({ from, to, text }).acked).toBe(true);
}

async function conversationsOf(customer: string) {
  return h.schema.db.selectFrom('conversations').selectAll().where('customer', '=', customer).orderBy('id').execute();
}

const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

describe('conversations', () => {
  it('a reply within the window joins the conversation and answers the latest message from that number; an app answer continues it', async () => {
    const sim = await start();
    const customer = '14155561001';
    // Two messages from 12345 (one at a time, so "latest" is well defined), then one from 67890.
    await h.send([{ id: 'm1', to: `+${customer}`, text: 'First from 12345', conversation: { ttl: 600, tags: { topic: 'billing' } } }]);
    await h.until('m1', async () => (await h.acceptedCount('m1')) === 1);
    await h.send([{ id: 'm2', to: `+${customer}`, text: 'Second from 12345' }]);
    await h.until('m2', async () => (await h.acceptedCount('m2')) === 1);
    await h.send([{ id: 'm3', from: '67890', to: `+${customer}`, text: 'From 67890' }]);
    await h.until('m3', async () => (await h.acceptedCount('m3')) === 1);

    const before = await conversationsOf(customer);
    expect(before.map((c) => [c.our_number, c.last_outbound_id, c.tags])).toEqual([
      ['12345', 'm2', { topic: 'billing' }],
      ['67890', 'm3', {}],
    ]);

    await inject(sim, customer, '12345', 'Which invoice?');
    await untilHandled(h, 1);
    const [reply] = await replyRows(h);
    expect(reply).toMatchObject({ in_reply_to: 'm2', conversation_id: before[0]!.id, matched_kind: 'none', resolved_automatically: false });
    expect((await inboundEvents(h))[0]).toMatchObject({ id: reply!.id, conversation_id: before[0]!.id, in_reply_to: 'm2' });

    // The app (or an agent) answers through the outbound stream: same conversation, and the
    // customer's next reply answers that message.
    await h.send([{ id: 'agent-1', to: `+${customer}`, text: 'Invoice 2024-07, sent yesterday.' }]);
    await h.until('agent answer', async () => (await h.acceptedCount('agent-1')) === 1);
    await inject(sim, customer, '12345', 'Got it, thanks');
    await untilHandled(h, 2);
    const second = (await replyRows(h)).find((r) => r.body === 'Got it, thanks')!;
    expect(second).toMatchObject({ in_reply_to: 'agent-1', conversation_id: before[0]!.id });
    const after = await conversationsOf(customer);
    expect(after.map((c) => [c.id, c.our_number, c.last_outbound_id])).toEqual([
      [before[0]!.id, '12345', 'agent-1'],
      [before[1]!.id, '67890', 'm3'],
    ]);
    expect(textsTo(sim, customer)).toEqual(['First from 12345', 'Second from 12345', 'From 67890', 'Invoice 2024-07, sent yesterday.']);
  });

  it('one customer answering two campaigns from two numbers lands in two conversations, each answering its own campaign', async () => {
    const sim = await start();
    const customer = '14155562001';
    await h.send([
      { id: 'camp-a', from: '12345', to: `+${customer}`, text: 'Haircut this week? Reply 1 to book.', replies: { '1': { reply: 'Haircut booked.' } } },
      { id: 'camp-b', from: '67890', to: `+${customer}`, text: 'Massage this week? Reply 1 to book.', replies: { '1': { reply: 'Massage booked.' } } },
    ]);
    await h.until('campaigns submitted', async () => (await h.acceptedCount('camp-%')) === 2);
    await inject(sim, customer, '67890', '1');
    await inject(sim, customer, '12345', '1');
    await untilHandled(h, 2);
    await h.until('answers sent', () => textsTo(sim, customer).length === 4);

    const rows = await replyRows(h);
    const toA = rows.find((r) => r.to_addr === '12345')!;
    const toB = rows.find((r) => r.to_addr === '67890')!;
    expect(toA).toMatchObject({ in_reply_to: 'camp-a', matched_kind: 'expected_reply', keyword: '1' });
    expect(toB).toMatchObject({ in_reply_to: 'camp-b', matched_kind: 'expected_reply', keyword: '1' });
    expect(toA.conversation_id).not.toBe(toB.conversation_id);
    const conversations = await conversationsOf(customer);
    expect(conversations).toHaveLength(2);
    expect(conversations.find((c) => c.id === toA.conversation_id)?.our_number).toBe('12345');
    expect(conversations.find((c) => c.id === toB.conversation_id)?.our_number).toBe('67890');
    // Each answer comes from the number written to, with that campaign's text.
    expect(sim.arrivals.filter((a) => a.destination === customer).slice(2).map((a) => [a.source, a.text]).sort()).toEqual([
      ['12345', 'Haircut booked.'],
      ['67890', 'Massage booked.'],
    ]);
  });

  it('a reply after the window (conversation.ttl 1) opens a new conversation', async () => {
    const sim = await start();
    const customer = '14155563001';
    await h.send([{ id: 'flash', to: `+${customer}`, text: 'Flash sale, today only', conversation: { ttl: 1, tags: { campaign: 'flash' } } }]);
    await h.until('submitted', async () => (await h.acceptedCount('flash')) === 1);
    const [opened] = await conversationsOf(customer);
    expect(opened).toMatchObject({ our_number: '12345', last_outbound_id: 'flash', tags: { campaign: 'flash' } });
    expect(opened!.expires_at.getTime() - opened!.opened_at.getTime()).toBeGreaterThanOrEqual(900);
    expect(opened!.expires_at.getTime() - opened!.opened_at.getTime()).toBeLessThanOrEqual(1_100);
    await sleep(Math.max(0, opened!.expires_at.getTime() - Date.now()) + 200);

    await inject(sim, customer, '12345', 'Is it still on?');
    await untilHandled(h, 1);
    const [reply] = await replyRows(h);
    const conversations = await conversationsOf(customer);
    expect(conversations).toHaveLength(2);
    expect(reply!.conversation_id).toBe(conversations[1]!.id);
    expect(reply!.conversation_id).not.toBe(opened!.id);
    // The new conversation starts clean: no tags carried over from the expired one.
    expect(conversations[1]).toMatchObject({ our_number: '12345', tags: {}, state: null });
  });
});
