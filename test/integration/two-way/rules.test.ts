/**
 * After compliance, the rules: the replies the answered message expects (with the number's
 * synonyms), keyword rules with regex groups and templates, tags and state on the conversation,
 * a webhook round trip (signed; its answer texted back in the conversation) and its fallback on a
 * timeout or an error, and each policy for replies nothing matched.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, inboundEvents, messageRow, replyRows, sentinel, SENTINEL_TO, startWebhookReceiver, untilHandled, type WebhookReceiver } from '../../support/two-way.ts';
import { verifyWebhook } from '../../../src/domain/webhook-signature.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
const receivers: WebhookReceiver[] = [];
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
  for (const r of receivers.splice(0)) await r.close();
});

const ORDER = '^ORDER\\s+(?<order>\\d+)$';

/** A daemon whose numbers carry the rules under test; the webhooks point at loopback receivers. */
async function start(hooks: { crm?: string; slow?: string } = {}): Promise<Simulator> {
  const sim = await h.startSim({ receiptDelayMs: 20 });
  // Rules may only name configured webhooks; those a test does not call point at a closed port.
  const unused = 'http://127.0.0.1:9/unused';
  const webhooks = [
    { name: 'crm', url: hooks.crm ?? unused, secret: 'crm-secret-0123456789', timeout: '2s' },
    { name: 'slow', url: hooks.slow ?? unused, secret: 'slow-secret-0123456789', timeout: '300ms' },
  ];
  await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '12345' }],
      webhooks,
      numbers: [
        {
          address: '12345',
          synonyms: { YES: ['Y', 'SI', 'OUI'], NO: ['N', 'NOPE'] },
          rules: [
            { name: 'order-reply', pattern: ORDER, actions: [{ reply: 'Thanks {{ metadata.name }}, order {{ groups.order }} is being packed.' }] },
            {
              name: 'vip',
              keywords: ['VIP', 'GOLD'],
              actions: [
                { set_tags: { level: 'gold', said: '{{ reply.text }}' } },
                { set_state: 'escalated' },
                { reply: 'Welcome to gold, {{ tags.campaign }} shopper.' },
              ],
            },
          ],
        },
        {
          address: '22222',
          rules: [{ name: 'order-status', pattern: ORDER, actions: [{ webhook: 'crm', fallback: 'Sorry, we cannot look up order {{ groups.order }} right now.' }] }],
        },
        {
          address: '33333',
          rules: [{ name: 'order-status', pattern: ORDER, actions: [{ webhook: 'slow', fallback: 'Sorry, we cannot look up order {{ groups.order }} right now.' }] }],
        },
        { address: '44441', unmatched: 'silent' },
        { address: '44442', unmatched: { reply: 'Sorry, we did not understand. Reply HELP for help.' } },
        { address: '44443', unmatched: 'hand_to_apps' },
      ],
    }),
  );
  return sim;
}

async function inject(sim: Simulator, from: string, to: string, text: string): Promise<void> {
  expect(await sim.injectReply({ from, to, text }).acked).toBe(true);
}

const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

async function replyFrom(customer: string) {
  const rows = (await replyRows(h)).filter((r) => r.from_addr === customer);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('rules', () => {
  it('an expected reply matches through the number synonyms and its template reads the message metadata', async () => {
    const sim = await start();
    const reminder = (id: string, to: string) => ({
      id,
      to,
      text: 'Appointment Tuesday 10:00. Reply YES or NO.',
      replies: { YES: { reply: 'Great {{ metadata.name }}, see you {{ metadata.day }}.' }, NO: { reply: 'OK, we will call to reschedule.' } },
      metadata: { name: 'Sam', day: 'Tuesday' },
    });
    await h.send([reminder('r1', '+14155555001'), reminder('r2', '+14155555002'), reminder('r3', '+14155555003')]);
    await h.until('reminders submitted', async () => (await h.acceptedCount('r%')) === 3);
    await inject(sim, '14155555001', '12345', 'Y');
    await inject(sim, '14155555002', '12345', 'si!');
    await inject(sim, '14155555003', '12345', 'Nope');
    await untilHandled(h, 3);
    await h.until('answers sent', () => sim.arrivals.length === 6);

    for (const [customer, keyword, answer, replyTo] of [
      ['14155555001', 'YES', 'Great Sam, see you Tuesday.', 'r1'],
      ['14155555002', 'YES', 'Great Sam, see you Tuesday.', 'r2'],
      ['14155555003', 'NO', 'OK, we will call to reschedule.', 'r3'],
    ] as const) {
      const reply = await replyFrom(customer);
      expect(reply).toMatchObject({ matched_kind: 'expected_reply', keyword, rule: null, in_reply_to: replyTo, resolved_automatically: true });
      expect(reply.actions).toEqual([{ kind: 'reply', text: keyword === 'YES' ? 'Great {{ metadata.name }}, see you {{ metadata.day }}.' : 'OK, we will call to reschedule.' }]);
      expect(textsTo(sim, customer)).toEqual(['Appointment Tuesday 10:00. Reply YES or NO.', answer]);
    }
    // Different customers' replies are handled side by side: their events come in any order.
    const events = await inboundEvents(h);
    expect(events.map((e) => [e.from, e.in_reply_to, e.matched]).sort()).toEqual([
      ['14155555001', 'r1', { kind: 'expected_reply', keyword: 'YES', action: 'reply' }],
      ['14155555002', 'r2', { kind: 'expected_reply', keyword: 'YES', action: 'reply' }],
      ['14155555003', 'r3', { kind: 'expected_reply', keyword: 'NO', action: 'reply' }],
    ]);
  });

  it('a keyword rule with a regex fills its template from named groups; set_tags and set_state change the conversation', async () => {
    const sim = await start();
    await h.send([
      { id: 'shipped', to: '+14155556001', text: 'Your order is ready. Reply ORDER <number> for details.', metadata: { name: 'Ada' } },
      { id: 'spring', to: '+14155556002', text: 'Spring sale! Reply VIP to join the club.', conversation: { tags: { campaign: 'spring' } } },
    ]);
    await h.until('submitted', async () => (await h.acceptedCount()) === 2);
    await inject(sim, '14155556001', '12345', 'order 1234');
    await inject(sim, '14155556002', '12345', 'Gold');
    await untilHandled(h, 2);
    await h.until('answers sent', () => sim.arrivals.length === 4);

    const order = await replyFrom('14155556001');
    expect(order).toMatchObject({ matched_kind: 'keyword', rule: 'order-reply', keyword: null, in_reply_to: 'shipped', resolved_automatically: true });
    expect(textsTo(sim, '14155556001').at(-1)).toBe('Thanks Ada, order 1234 is being packed.');

    const vip = await replyFrom('14155556002');
    expect(vip).toMatchObject({ matched_kind: 'keyword', rule: 'vip', keyword: 'GOLD', in_reply_to: 'spring', resolved_automatically: true });
    expect(textsTo(sim, '14155556002').at(-1)).toBe('Welcome to gold, spring shopper.');
    const conversation = await h.schema.db.selectFrom('conversations').selectAll().where('id', '=', vip.conversation_id!).executeTakeFirstOrThrow();
    expect(conversation).toMatchObject({ customer: '14155556002', our_number: '12345', state: 'escalated', tags: { campaign: 'spring', level: 'gold', said: 'Gold' } });

    const events = await inboundEvents(h);
    expect(events.find((e) => e.id === order.id)?.matched).toEqual({ kind: 'keyword', keyword: null, action: 'reply' });
    expect(events.find((e) => e.id === vip.id)?.matched).toEqual({ kind: 'keyword', keyword: 'GOLD', action: 'set_tags,set_state,reply' });
  });

  it('a webhook round trip: the signed inbound event goes out, its answer is texted back in the same conversation; an error answer sends the fallback', async () => {
    const crm = await startWebhookReceiver((req) => {
      const text = (JSON.parse(req.body) as { text: string }).text;
      return text.endsWith('500') ? { status: 500, body: '{"error":"db down"}' } : { status: 200, body: '{"reply":"Order 1234 ships today"}' };
    });
    receivers.push(crm);
    const sim = await start({ crm: crm.url });
    await h.send([{ id: 'camp-22', from: '22222', to: '+14155557001', text: 'Track your order: reply ORDER <number>.' }]);
    await h.until('campaign submitted', async () => (await h.acceptedCount('camp-22')) === 1);
    await inject(sim, '14155557001', '22222', 'ORDER 1234');
    await untilHandled(h, 1);
    await h.until('answer sent', () => textsTo(sim, '14155557001').length === 2);

    const reply = await replyFrom('14155557001');
    expect(crm.received).toHaveLength(1);
    const hook = crm.received[0]!;
    const timestamp = hook.headers['x-parley-timestamp'] as string;
    expect(verifyWebhook('crm-secret-0123456789', timestamp, hook.body, hook.headers['x-parley-signature'] as string)).toBe(true);
    expect(verifyWebhook('crm-secret-0123456789', timestamp, hook.body.replace('1234', '1235'), hook.headers['x-parley-signature'] as string)).toBe(false);
    // Each POST has its own delivery id, so a receiver can drop one it has seen.
    expect(hook.headers['x-parley-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(hook.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hook.body)).toEqual({
      type: 'message.inbound',
      id: reply.id,
      from: '14155557001',
      to: '22222',
      text: 'ORDER 1234',
      conversation_id: reply.conversation_id,
      in_reply_to: 'camp-22',
      matched: { kind: 'keyword', keyword: 'order-status', action: 'webhook' },
      received_at: reply.received_at.toISOString(),
      intent: { name: 'other', confidence: 0, via: 'none', choice: null, at: null, review: false, escalated: false },
    });

    expect(sim.arrivals.filter((a) => a.destination === '14155557001').map((a) => [a.source, a.text])).toEqual([
      ['22222', 'Track your order: reply ORDER <number>.'],
      ['22222', 'Order 1234 ships today'],
    ]);
    expect(reply).toMatchObject({ matched_kind: 'keyword', rule: 'order-status', in_reply_to: 'camp-22', answer_message_id: `a0-${reply.id}`, resolved_automatically: true });
    expect(await messageRow(h, `a0-${reply.id}`)).toMatchObject({ reply_to: reply.id, from_addr: '22222', to_addr: '14155557001', body: 'Order 1234 ships today' });
    // The campaign, the reply and the answer share one conversation, which the answer continued.
    const conversations = await h.schema.db.selectFrom('conversations').selectAll().where('customer', '=', '14155557001').execute();
    expect(conversations).toEqual([expect.objectContaining({ id: reply.conversation_id, our_number: '22222', last_outbound_id: `a0-${reply.id}` })]);

    // The same rule, the webhook answering 500: the fallback goes out instead.
    await inject(sim, '14155557001', '22222', 'ORDER 500');
    await untilHandled(h, 2);
    await h.until('fallback sent', () => textsTo(sim, '14155557001').length === 3);
    expect(crm.received).toHaveLength(2);
    expect(textsTo(sim, '14155557001').at(-1)).toBe('Sorry, we cannot look up order 500 right now.');
    const second = (await replyRows(h)).find((r) => r.body === 'ORDER 500')!;
    expect(second).toMatchObject({ conversation_id: reply.conversation_id, answer_message_id: `a0-${second.id}`, matched_kind: 'keyword', rule: 'order-status' });
  });

  it('a webhook that does not answer within its timeout is answered by the rule fallback', async () => {
    const slow = await startWebhookReceiver(() => 'hang');
    receivers.push(slow);
    const sim = await start({ slow: slow.url });
    await inject(sim, '14155558001', '33333', 'ORDER 77');
    await untilHandled(h, 1, 10_000);
    await h.until('fallback sent', () => textsTo(sim, '14155558001').length === 1);
    expect(slow.received).toHaveLength(1);
    expect(verifyWebhook('slow-secret-0123456789', slow.received[0]!.headers['x-parley-timestamp'] as string, slow.received[0]!.body, slow.received[0]!.headers['x-parley-signature'] as string)).toBe(true);
    expect(sim.arrivals.filter((a) => a.destination === '14155558001').map((a) => [a.source, a.text])).toEqual([
      ['33333', 'Sorry, we cannot look up order 77 right now.'],
    ]);
    const reply = await replyFrom('14155558001');
    expect(reply).toMatchObject({ matched_kind: 'keyword', rule: 'order-status', answer_message_id: `a0-${reply.id}` });
    // Handled only once the 300 ms timeout had passed, and not much later.
    const waited = reply.handled_at!.getTime() - reply.received_at.getTime();
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(3_000);
  });

  it('unmatched replies are published on parley:inbound with matched.kind none, and each policy does what it says', async () => {
    const sim = await start();
    await inject(sim, '14155559001', '44441', 'what is this?');
    await inject(sim, '14155559002', '44442', 'what is this?');
    await inject(sim, '14155559003', '44443', 'what is this?');
    await untilHandled(h, 3);
    await h.until('default answer sent', () => textsTo(sim, '14155559002').length === 1);
    await sentinel(h, sim);

    expect(textsTo(sim, '14155559001')).toEqual([]);
    expect(textsTo(sim, '14155559002')).toEqual(['Sorry, we did not understand. Reply HELP for help.']);
    expect(textsTo(sim, '14155559003')).toEqual([]);
    expect(sim.arrivals.filter((a) => a.destination !== SENTINEL_TO)).toHaveLength(1);

    const rows = await replyRows(h);
    const events = await inboundEvents(h);
    expect(events).toHaveLength(3);
    for (const [customer, number, action, answered] of [
      ['14155559001', '44441', null, false],
      ['14155559002', '44442', 'reply', true],
      ['14155559003', '44443', 'hand_to_apps', false],
    ] as const) {
      const reply = rows.find((r) => r.from_addr === customer)!;
      expect(reply).toMatchObject({ to_addr: number, matched_kind: 'none', keyword: null, rule: null, in_reply_to: null, resolved_automatically: false });
      expect(reply.answer_message_id === null).toBe(!answered);
      expect(events.find((e) => e.from === customer)).toEqual({
        type: 'message.inbound',
        id: reply.id,
        from: customer,
        to: number,
        text: 'what is this?',
        conversation_id: reply.conversation_id,
        in_reply_to: null,
        matched: { kind: 'none', keyword: null, action },
        received_at: reply.received_at.toISOString(),
        intent: { name: 'other', confidence: 0.2, via: 'question', choice: null, at: null, review: false, escalated: false },
      });
    }
  });
});
