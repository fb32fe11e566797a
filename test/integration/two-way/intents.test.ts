/**
 * Replies read for what they mean (issue 12), through the daemon with a real SMSC simulator,
 * Postgres and Redis: opt-out by any reasonable means with exactly one confirmation, an unclear
 * opt-out flagged for review and handed to apps (no answer, not opted out), expected replies
 * answered by intent ("yes please", "Yep 👍", "option 2"), a reschedule with the parsed time in
 * the event, HELP by question, intents and confidences stored on the replies (migration 0013),
 * the NLU webhook asked about what the built-in reading cannot tell, and escalation below the
 * threshold.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, inboundEvents, replyRows, sentinel, startWebhookReceiver, untilHandled, type WebhookReceiver } from '../../support/two-way.ts';
import { DEFAULT_COMPLIANCE } from '../../../src/inbound/compliance.ts';
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

const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

async function start(number: Record<string, unknown>, webhooks: Record<string, unknown>[] = []): Promise<Simulator> {
  const sim = await h.startSim({ receiptDelayMs: 20 });
  await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 200, default_from: '12345' }],
      webhooks,
      numbers: [{ address: '12345', ...number }],
    }),
  );
  return sim;
}

async function inject(sim: Simulator, from: string, text: string): Promise<void> {
  expect(await sim.injectReply({ from, to: '12345', text }).acked).toBe(true);
}

async function optedOut(customer: string): Promise<boolean | undefined> {
  const row = await h.schema.db.selectFrom('opt_outs').selectAll().where('customer', '=', customer).where('scope', '=', '12345').executeTakeFirst();
  return row?.opted_out;
}

describe('intents in the reply path', () => {
  it('opt-out by any reasonable means: phrases opt out with one confirmation; an unclear one is flagged and handed to apps', async () => {
    const sim = await start({ intents: { time_zone: 'America/New_York' } });
    await inject(sim, '14155556001', 'Please stop texting me');
    await untilHandled(h, 1);
    await h.until('confirmation sent', () => textsTo(sim, '14155556001').length === 1);
    // Saying it again in other words changes nothing and sends no second confirmation.
    await inject(sim, '14155556001', "don't text me again!!");
    await inject(sim, '14155556002', 'stop it, that’s annoying');
    await inject(sim, '14155556003', 'ARRÊTEZ');
    await untilHandled(h, 4);
    await h.until('second confirmation', () => textsTo(sim, '14155556003').length === 1);
    await sentinel(h, sim);

    expect(textsTo(sim, '14155556001')).toEqual([DEFAULT_COMPLIANCE.optOutReply]);
    expect(textsTo(sim, '14155556003')).toEqual([DEFAULT_COMPLIANCE.optOutReply]);
    expect(textsTo(sim, '14155556002')).toEqual([]);
    expect(await optedOut('14155556001')).toBe(true);
    expect(await optedOut('14155556003')).toBe(true);
    expect(await optedOut('14155556002')).toBeUndefined();

    const rows = await replyRows(h);
    const row = (from: string, i = 0) => rows.filter((r) => r.from_addr === from)[i]!;
    expect(row('14155556001')).toMatchObject({ matched_kind: 'compliance', keyword: 'stop texting', intent: 'opt_out', actions: [{ kind: 'opt_out' }] });
    expect(row('14155556001').intent_confidence).toBeCloseTo(0.95, 5);
    expect(row('14155556001', 1)).toMatchObject({ matched_kind: 'compliance', intent: 'opt_out', answer_message_id: null });
    expect(row('14155556002')).toMatchObject({
      matched_kind: 'none',
      intent: 'opt_out_unclear',
      actions: [{ kind: 'hand_to_apps', review: true }],
      resolved_automatically: false,
      answer_message_id: null,
      intent_detail: { via: 'unclear', review: true, escalated: false, evidence: 'stop' },
    });
    const events = await inboundEvents(h);
    expect(events.find((e) => e.id === row('14155556002').id)).toMatchObject({
      matched: { kind: 'none', keyword: null, action: 'hand_to_apps' },
      intent: { name: 'opt_out_unclear', confidence: 0.5, review: true, escalated: false },
    });
    expect(events.find((e) => e.id === row('14155556001').id)).toMatchObject({
      matched: { kind: 'compliance', action: 'opt_out' },
      intent: { name: 'opt_out', confidence: 0.95, via: 'phrase', review: false },
    });
    const counted = (await h.daemons[0]!.metrics.replyIntents.get()).values.map((v) => [v.labels.intent, v.labels.handling, v.value]);
    expect(counted).toEqual(
      expect.arrayContaining([
        ['opt_out', 'compliance', 3],
        ['opt_out_unclear', 'review', 1],
      ]),
    );
  });

  it('expected replies answered by intent, menus by number, a reschedule with its time, HELP by question', async () => {
    const sim = await start({ intents: { time_zone: 'America/New_York' }, compliance: { brand: 'Acme Dental', contact: 'acme.example' } });
    const remind = (id: string, to: string) => ({
      id,
      to: `+${to}`,
      text: 'Dentist Tue 10:00. Reply YES to confirm, NO to cancel, or R to reschedule.',
      replies: { YES: { reply: 'Confirmed, see you.' }, NO: { reply: 'Cancelled.' }, RESCHEDULE: { reply: 'We will call you to find a time.' } },
    });
    await h.send([
      remind('r1', '14155557001'),
      remind('r2', '14155557002'),
      remind('r3', '14155557003'),
      remind('r4', '14155557004'),
      { id: 'menu', to: '+14155557005', text: 'Pick a slot: 1) 9:00 2) 11:00', replies: { '1': { reply: 'Booked 9:00.' }, '2': { reply: 'Booked 11:00.' } } },
    ]);
    for (const id of ['r1', 'r2', 'r3', 'r4', 'menu']) await h.until(`${id} submitted`, async () => (await h.acceptedCount(id)) === 1);
    await inject(sim, '14155557001', 'yes please');
    await inject(sim, '14155557002', 'Yep 👍');
    await inject(sim, '14155557003', 'nope, sorry');
    await inject(sim, '14155557004', 'can we do 4pm instead?');
    await inject(sim, '14155557005', 'option 2');
    await inject(sim, '14155557006', 'who is this?');
    await untilHandled(h, 6);
    await h.until('answers sent', () => ['14155557001', '14155557002', '14155557003', '14155557004', '14155557005'].every((c) => textsTo(sim, c).length === 2));
    await h.until('help answered', () => textsTo(sim, '14155557006').length === 1);

    expect(textsTo(sim, '14155557001')[1]).toBe('Confirmed, see you.');
    expect(textsTo(sim, '14155557002')[1]).toBe('Confirmed, see you.');
    expect(textsTo(sim, '14155557003')[1]).toBe('Cancelled.');
    expect(textsTo(sim, '14155557004')[1]).toBe('We will call you to find a time.');
    expect(textsTo(sim, '14155557005')[1]).toBe('Booked 11:00.');
    // No help_reply configured: the HELP answer is built from the brand and the contact.
    expect(textsTo(sim, '14155557006')).toEqual(['Acme Dental: help at acme.example. Reply STOP to unsubscribe.']);

    const rows = await replyRows(h);
    const by = (from: string) => rows.find((r) => r.from_addr === from)!;
    expect(by('14155557001')).toMatchObject({ matched_kind: 'expected_reply', keyword: 'YES', intent: 'yes', resolved_automatically: true });
    expect(by('14155557002')).toMatchObject({ matched_kind: 'expected_reply', keyword: 'YES', intent: 'yes' });
    expect(by('14155557003')).toMatchObject({ matched_kind: 'expected_reply', keyword: 'NO', intent: 'no' });
    expect(by('14155557005')).toMatchObject({ matched_kind: 'expected_reply', keyword: '2', intent: 'choice', intent_detail: expect.objectContaining({ choice: 2 }) });
    expect(by('14155557006')).toMatchObject({ matched_kind: 'compliance', intent: 'help', actions: [{ kind: 'help' }] });

    // The proposed time, read against the time the reply was received, in New York.
    const reschedule = by('14155557004');
    expect(reschedule).toMatchObject({ matched_kind: 'expected_reply', keyword: 'RESCHEDULE', intent: 'reschedule' });
    const event = (await inboundEvents(h)).find((e) => e.id === reschedule.id) as { intent: { name: string; at: string } };
    expect(event.intent.name).toBe('reschedule');
    const at = new Date(event.intent.at);
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).format(at);
    expect(local).toBe('16:00');
    expect(at.getTime()).toBeGreaterThan(reschedule.received_at.getTime());
    expect(at.getTime() - reschedule.received_at.getTime()).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('the NLU webhook reads what the built-in reading cannot; below the threshold a reply is escalated to apps, not answered', async () => {
    const nlu = await startWebhookReceiver((req) => {
      const event = JSON.parse(req.body) as { text: string };
      if (event.text.includes('bring my dog')) return { status: 200, body: JSON.stringify({ intent: 'pets_question', confidence: 0.92 }) };
      if (event.text.includes('that slot')) return { status: 200, body: JSON.stringify({ intent: 'yes', confidence: 0.88 }) };
      return { status: 200, body: '' };
    });
    receivers.push(nlu);
    const sim = await start(
      { intents: { threshold: 0.85, nlu_webhook: 'nlu' }, unmatched: { reply: 'Sorry, we did not understand.' } },
      [{ name: 'nlu', url: nlu.url, secret: 'nlu-secret-0123456789', timeout: '2s' }],
    );
    await h.send([{ id: 'offer', to: '+14155558001', text: 'A slot opened Friday 9:00. Reply YES to take it.', replies: { YES: { reply: 'Booked Friday 9:00.' } } }]);
    await h.until('offer submitted', async () => (await h.acceptedCount('offer')) === 1);
    await inject(sim, '14155558001', 'I will take that slot');
    await inject(sim, '14155558002', 'Can I bring my dog?');
    // Read as yes, but a long reply that says more (0.55 < 0.85): the apps answer it.
    await inject(sim, '14155558003', 'yes but I might be a few minutes late');
    // Nothing recognised and the NLU has no idea: the number's unmatched policy answers.
    await inject(sim, '14155558004', 'blue door on the left');
    await untilHandled(h, 4);
    await h.until('answers sent', () => textsTo(sim, '14155558001').length === 2 && textsTo(sim, '14155558004').length === 1);
    await sentinel(h, sim);

    expect(textsTo(sim, '14155558001')[1]).toBe('Booked Friday 9:00.');
    expect(textsTo(sim, '14155558002')).toEqual(['Sorry, we did not understand.']);
    expect(textsTo(sim, '14155558003')).toEqual([]);
    expect(textsTo(sim, '14155558004')).toEqual(['Sorry, we did not understand.']);

    const rows = await replyRows(h);
    const by = (from: string) => rows.find((r) => r.from_addr === from)!;
    expect(by('14155558001')).toMatchObject({ matched_kind: 'expected_reply', keyword: 'YES', intent: 'yes', intent_detail: expect.objectContaining({ via: 'nlu' }) });
    expect(by('14155558002')).toMatchObject({ matched_kind: 'none', intent: 'pets_question', intent_detail: expect.objectContaining({ via: 'nlu', escalated: false }) });
    expect(by('14155558003')).toMatchObject({
      matched_kind: 'none',
      intent: 'yes',
      actions: [{ kind: 'hand_to_apps' }],
      resolved_automatically: false,
      intent_detail: expect.objectContaining({ escalated: true }),
    });
    expect(by('14155558004')).toMatchObject({ matched_kind: 'none', intent: 'other', intent_confidence: 0 });
    // The NLU was asked about the three replies the built-in reading was unsure of, not more.
    expect(nlu.received.map((r) => (JSON.parse(r.body) as { text: string }).text).sort()).toEqual(
      ['Can I bring my dog?', 'I will take that slot', 'blue door on the left', 'yes but I might be a few minutes late'].sort(),
    );
    const events = await inboundEvents(h);
    expect(events.find((e) => e.id === by('14155558003').id)).toMatchObject({ intent: { name: 'yes', escalated: true } });
  });
});
