/**
 * STOP / START / HELP before any rule: every default keyword as a table, YES both ways, exactly one
 * confirmation per opt-out, sends to an opted-out customer failed at intake without reaching the
 * SMSC, scope per number or global, and lists and texts configured per number.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, inboundEvents, messageRow, replyRows, sentinel, SENTINEL_TO, sleep, untilHandled } from '../../support/two-way.ts';
import { DEFAULT_COMPLIANCE } from '../../../src/inbound/compliance.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

const OPT_OUT_TEXT = DEFAULT_COMPLIANCE.optOutReply;
const OPT_IN_TEXT = DEFAULT_COMPLIANCE.optInReply;
const HELP_TEXT = DEFAULT_COMPLIANCE.helpReply;

/** Texts the simulator received for one customer, in order. */
const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

async function start(numbers: readonly Record<string, unknown>[]): Promise<Simulator> {
  const sim = await h.startSim({ receiptDelayMs: 20 });
  await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 200, default_from: '12345' }],
      numbers,
    }),
  );
  return sim;
}

async function inject(sim: Simulator, from: string, to: string, text: string): Promise<void> {
  expect(await sim.injectReply({ from, to, text }).acked).toBe(true);
}

async function optOutRow(customer: string, scope = '12345') {
  return h.schema.db.selectFrom('opt_outs').selectAll().where('customer', '=', customer).where('scope', '=', scope).executeTakeFirst();
}

/** Waits for an app's message to be refused as opted_out. */
async function untilRefused(id: string): Promise<void> {
  await h.until(`${id} failed as opted_out`, async () => {
    const m = await messageRow(h, id);
    return m?.status === 'failed' && m.error_code === 'opted_out';
  });
}

type Kind = 'opt_out' | 'opt_in' | 'help';
/** keyword as configured, what the customer types, what it is. */
const TABLE: readonly [string, string, Kind][] = [
  ['STOP', 'Stop!', 'opt_out'],
  ['STOPALL', 'stopall.', 'opt_out'],
  ['STOP ALL', 'Stop  All!!', 'opt_out'],
  ['UNSUBSCRIBE', 'Unsubscribe?', 'opt_out'],
  ['UNSUB', ' unSUB ', 'opt_out'],
  ['CANCEL', 'Cancel.', 'opt_out'],
  ['END', 'end!', 'opt_out'],
  ['QUIT', 'Quit;', 'opt_out'],
  ['OPTOUT', 'OptOut', 'opt_out'],
  ['OPT-OUT', 'opt-out!', 'opt_out'],
  ['REVOKE', 'revoke...', 'opt_out'],
  ['REMOVE', 'Remove!!!', 'opt_out'],
  ['ARRET', 'arret', 'opt_out'],
  ['ARRÊT', 'Arrêt !', 'opt_out'],
  ['START', 'start!', 'opt_in'],
  ['UNSTOP', 'Unstop.', 'opt_in'],
  ['RESUME', 'RESUME?', 'opt_in'],
  ['HELP', 'help?', 'help'],
  ['INFO', 'Info.', 'help'],
];

describe('compliance keywords', () => {
  it('every default keyword, in mixed case and with punctuation, each from its own customer', async () => {
    const sim = await start([{ address: '12345' }]);
    const rows = TABLE.map(([keyword, typed, kind], i) => ({ keyword, typed, kind, customer: `1415555${String(1000 + i)}` }));
    // Opt-in keywords are tried on customers who opted out first.
    for (const r of rows) await inject(sim, r.customer, '12345', r.kind === 'opt_in' ? 'STOP' : r.typed);
    await untilHandled(h, rows.length);
    await h.until('first confirmations sent', () => sim.arrivals.length === rows.length);
    const optIns = rows.filter((r) => r.kind === 'opt_in');
    for (const r of optIns) await inject(sim, r.customer, '12345', r.typed);
    await untilHandled(h, rows.length + optIns.length);
    const expectedTexts = (kind: Kind): string[] => (kind === 'opt_out' ? [OPT_OUT_TEXT] : kind === 'opt_in' ? [OPT_OUT_TEXT, OPT_IN_TEXT] : [HELP_TEXT]);
    const total = rows.reduce((n, r) => n + expectedTexts(r.kind).length, 0);
    await h.until('every confirmation sent', () => sim.arrivals.length >= total);
    await sentinel(h, sim);
    expect(sim.arrivals.filter((a) => a.destination !== SENTINEL_TO)).toHaveLength(total);

    const replies = await replyRows(h);
    const events = await inboundEvents(h);
    for (const r of rows) {
      const reply = replies.filter((x) => x.from_addr === r.customer).at(-1)!;
      expect(reply, r.keyword).toMatchObject({
        body: r.typed,
        status: 'handled',
        matched_kind: 'compliance',
        keyword: r.keyword,
        actions: [{ kind: r.kind }],
        resolved_automatically: true,
        answer_message_id: `c-${reply.id}`,
      });
      // The confirmation went back once, from the number written to, as a message answering the reply.
      expect(textsTo(sim, r.customer), r.keyword).toEqual(expectedTexts(r.kind));
      expect(sim.arrivals.filter((a) => a.destination === r.customer).every((a) => a.source === '12345')).toBe(true);
      expect(await messageRow(h, `c-${reply.id}`), r.keyword).toMatchObject({ reply_to: reply.id, from_addr: '12345', to_addr: r.customer });
      const optOut = await optOutRow(r.customer);
      if (r.kind === 'help') expect(optOut, r.keyword).toBeUndefined();
      else expect(optOut, r.keyword).toMatchObject({ opted_out: r.kind === 'opt_out', keyword: r.keyword, reply_id: reply.id });
      expect(events.find((e) => e.id === reply.id), r.keyword).toMatchObject({
        type: 'message.inbound',
        from: r.customer,
        to: '12345',
        text: r.typed,
        matched: { kind: 'compliance', keyword: r.keyword, action: r.kind },
      });
    }
  });

  it('YES opts in an opted-out customer, is an expected reply from a subscribed one, and is nothing special otherwise', async () => {
    const sim = await start([{ address: '12345' }]);
    // An opted-out customer saying YES comes back.
    await inject(sim, '14155552001', '12345', 'STOP');
    await untilHandled(h, 1);
    await h.until('opt-out confirmed', () => textsTo(sim, '14155552001').length === 1);
    await inject(sim, '14155552001', '12345', 'Yes.');
    // A subscribed customer answering "Reply YES to confirm" confirms the appointment.
    await h.send([{ id: 'remind', to: '+14155552002', text: 'Dentist tomorrow 10:00. Reply YES to confirm.', replies: { YES: { reply: 'Confirmed, see you at 10:00.' } } }]);
    await h.until('reminder submitted', async () => (await h.acceptedCount('remind')) === 1);
    await inject(sim, '14155552002', '12345', 'YES');
    // A subscribed customer saying YES to nothing in particular is not an opt-in either.
    await inject(sim, '14155552003', '12345', 'yes');
    await untilHandled(h, 4);
    await h.until('answers sent', () => textsTo(sim, '14155552001').length === 2 && textsTo(sim, '14155552002').length === 2);
    await sentinel(h, sim);

    const replies = await replyRows(h);
    const by = (from: string) => replies.filter((r) => r.from_addr === from);
    expect(by('14155552001').at(-1)).toMatchObject({ matched_kind: 'compliance', keyword: 'YES', actions: [{ kind: 'opt_in' }] });
    expect(await optOutRow('14155552001')).toMatchObject({ opted_out: false, keyword: 'YES' });
    expect(textsTo(sim, '14155552001')).toEqual([OPT_OUT_TEXT, OPT_IN_TEXT]);

    expect(by('14155552002')).toEqual([
      expect.objectContaining({ matched_kind: 'expected_reply', keyword: 'YES', in_reply_to: 'remind', resolved_automatically: true }),
    ]);
    expect(await optOutRow('14155552002')).toBeUndefined();
    expect(textsTo(sim, '14155552002')).toEqual(['Dentist tomorrow 10:00. Reply YES to confirm.', 'Confirmed, see you at 10:00.']);

    expect(by('14155552003')).toEqual([expect.objectContaining({ matched_kind: 'none', keyword: null, resolved_automatically: false })]);
    expect(await optOutRow('14155552003')).toBeUndefined();
    expect(textsTo(sim, '14155552003')).toEqual([]);
  });

  it('exactly one confirmation per opt-out, and the next send fails as opted_out without reaching the SMSC', async () => {
    const sim = await start([{ address: '12345' }]);
    await h.send([{ id: 'promo-1', to: '+14155553001', text: 'Spring sale: 20% off' }]);
    await h.until('promo submitted', async () => (await h.acceptedCount('promo-1')) === 1);
    await inject(sim, '14155553001', '12345', 'STOP');
    await untilHandled(h, 1);
    await inject(sim, '14155553001', '12345', 'stop');
    await inject(sim, '14155553001', '12345', 'UNSUBSCRIBE');
    await untilHandled(h, 3);
    await h.send([{ id: 'promo-2', to: '+14155553001', text: 'Last day of the sale!', metadata: { campaign: 'spring' } }]);
    await untilRefused('promo-2');
    await sentinel(h, sim);

    expect(textsTo(sim, '14155553001')).toEqual(['Spring sale: 20% off', OPT_OUT_TEXT]);
    const replies = await replyRows(h);
    expect(replies.map((r) => [r.body, r.matched_kind, r.keyword, r.answer_message_id === null])).toEqual([
      ['STOP', 'compliance', 'STOP', false],
      ['stop', 'compliance', 'STOP', true],
      ['UNSUBSCRIBE', 'compliance', 'UNSUBSCRIBE', true],
    ]);
    // The opt-out is the first STOP's; the later keywords changed nothing.
    expect(await optOutRow('14155553001')).toMatchObject({ opted_out: true, keyword: 'STOP', reply_id: replies[0]!.id });
    expect(await h.schema.db.selectFrom('messages').select('id').where('reply_to', 'is not', null).execute()).toEqual([{ id: `c-${replies[0]!.id}` }]);

    const blocked = await messageRow(h, 'promo-2');
    expect(blocked).toMatchObject({ status: 'failed', error_code: 'opted_out', from_addr: '12345', submitted_at: null, attempts: 0 });
    expect(await h.schema.db.selectFrom('segments').select('seq').where('message_id', '=', 'promo-2').execute()).toEqual([]);
    const events = (await h.redis.xrange(h.keys.events, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as Record<string, unknown>).filter((e) => e.id === 'promo-2');
    expect(events.map((e) => [e.status, e.previous])).toEqual([
      ['queued', null],
      ['failed', 'queued'],
    ]);
    expect(events[1]).toMatchObject({ error: { code: 'opted_out' }, metadata: { campaign: 'spring' } });
  });

  it('STOP, START and STOP again (after the duplicate window) opts the customer out again, with a confirmation each time', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        conversations: { duplicate_window: '200ms' },
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
        numbers: [{ address: '12345' }],
      }),
    );
    const customer = '14155553501';
    for (const [i, text] of ['STOP', 'START', 'STOP'].entries()) {
      await inject(sim, customer, '12345', text);
      await untilHandled(h, i + 1);
      await h.until('confirmed', () => textsTo(sim, customer).length === i + 1);
      await sleep(250); // past the duplicate window: the same text again is a new message
    }
    await h.until('confirmations sent', () => textsTo(sim, customer).length === 3);
    expect(textsTo(sim, customer)).toEqual([OPT_OUT_TEXT, OPT_IN_TEXT, OPT_OUT_TEXT]);
    const replies = await replyRows(h);
    expect(replies.map((r) => [r.body, r.keyword])).toEqual([
      ['STOP', 'STOP'],
      ['START', 'START'],
      ['STOP', 'STOP'],
    ]);
    expect(new Set(replies.map((r) => r.id)).size).toBe(3);
    expect(await optOutRow(customer)).toMatchObject({ opted_out: true, keyword: 'STOP', reply_id: replies[2]!.id });
    // Each stored part belongs to its own reply.
    const parts = await h.schema.db.selectFrom('inbound_parts').select('reply_id').orderBy('id').execute();
    expect(parts.map((p) => p.reply_id)).toEqual(replies.map((r) => r.id));
    await h.send([{ id: 'after-stop', to: `+${customer}`, text: 'Are you sure?' }]);
    await untilRefused('after-stop');
  });

  it('scope: a global-scope number blocks every number; a number-scope opt-out blocks only its own; lists and texts per number', async () => {
    const sim = await start([
      { address: '12345' },
      { address: '67890', compliance: { scope: 'global' } },
      {
        address: '55555',
        compliance: {
          opt_out: ['ALTO', 'BASTA'],
          opt_in: ['VOLVER'],
          help: ['AYUDA'],
          opt_out_reply: 'Baja confirmada. Responde VOLVER para volver.',
          opt_in_reply: 'Bienvenido de nuevo.',
          help_reply: 'Responde ALTO para darte de baja.',
        },
      },
      { address: '44444', compliance: { opt_out_reply: '' } },
    ]);
    await inject(sim, '14155554001', '67890', 'stop');
    await inject(sim, '14155554002', '12345', 'STOP');
    await inject(sim, '14155554003', '55555', 'ayuda');
    await inject(sim, '14155554004', '44444', 'Stop.');
    await untilHandled(h, 4);
    await h.until('help answered', () => textsTo(sim, '14155554003').length === 1);
    await inject(sim, '14155554003', '55555', '¡Alto!');
    await untilHandled(h, 5);
    await h.until('opt-out confirmed', () => textsTo(sim, '14155554003').length === 2);
    await inject(sim, '14155554003', '55555', 'volver');
    await untilHandled(h, 6);
    await h.until('opt-in confirmed', () => textsTo(sim, '14155554003').length === 3);

    expect(await optOutRow('14155554001', '*')).toMatchObject({ opted_out: true, keyword: 'STOP' });
    expect(await optOutRow('14155554001', '67890')).toBeUndefined();
    expect(await optOutRow('14155554002', '12345')).toMatchObject({ opted_out: true, keyword: 'STOP' });
    expect(await optOutRow('14155554003', '55555')).toMatchObject({ opted_out: false, keyword: 'VOLVER' });
    expect(await optOutRow('14155554004', '44444')).toMatchObject({ opted_out: true, keyword: 'STOP' });

    await h.send([
      { id: 'g-12345', to: '+14155554001', from: '12345', text: 'from 12345 to the global opt-out' },
      { id: 'g-55555', to: '+14155554001', from: '55555', text: 'from 55555 to the global opt-out' },
      { id: 'n-12345', to: '+14155554002', from: '12345', text: 'from 12345 to the number opt-out' },
      { id: 'n-67890', to: '+14155554002', from: '67890', text: 'from 67890 to the number opt-out' },
      { id: 'back-55555', to: '+14155554003', from: '55555', text: 'after VOLVER' },
    ]);
    for (const id of ['g-12345', 'g-55555', 'n-12345']) await untilRefused(id);
    await h.until('allowed sends accepted', async () => (await h.acceptedCount('n-67890')) + (await h.acceptedCount('back-55555')) === 2);
    await sentinel(h, sim);
    expect(sim.arrivals.some((a) => a.text.startsWith('from 12345') || a.text.startsWith('from 55555'))).toBe(false);
    expect(textsTo(sim, '14155554002')).toEqual([OPT_OUT_TEXT, 'from 67890 to the number opt-out']);

    // The per-number lists and texts.
    expect(textsTo(sim, '14155554003')).toEqual([
      'Responde ALTO para darte de baja.',
      'Baja confirmada. Responde VOLVER para volver.',
      'Bienvenido de nuevo.',
      'after VOLVER',
    ]);
    expect((await replyRows(h)).filter((r) => r.from_addr === '14155554003').map((r) => [r.matched_kind, r.keyword])).toEqual([
      ['compliance', 'AYUDA'],
      ['compliance', 'ALTO'],
      ['compliance', 'VOLVER'],
    ]);
    // An empty confirmation text sends none, but the opt-out holds.
    expect(textsTo(sim, '14155554004')).toEqual([]);
    expect((await replyRows(h)).find((r) => r.from_addr === '14155554004')).toMatchObject({ matched_kind: 'compliance', answer_message_id: null });
    // The global opt-out's confirmation came from the number it was sent to.
    expect(sim.arrivals.filter((a) => a.destination === '14155554001').map((a) => [a.source, a.text])).toEqual([['67890', OPT_OUT_TEXT]]);

    // START to a number-scope number after a global STOP resubscribes the customer to that
    // number, as its confirmation says; the other numbers stay blocked.
    await inject(sim, '14155554001', '12345', 'START');
    await untilHandled(h, 7);
    await h.until('opt-in confirmed', () => textsTo(sim, '14155554001').length === 2);
    expect(await optOutRow('14155554001', '12345')).toMatchObject({ opted_out: false, keyword: 'START' });
    await h.send([
      { id: 'g2-12345', to: '+14155554001', from: '12345', text: 'again from 12345' },
      { id: 'g2-55555', to: '+14155554001', from: '55555', text: 'again from 55555' },
    ]);
    await untilRefused('g2-55555');
    await h.until('resubscribed number sends', async () => (await h.acceptedCount('g2-12345')) === 1);
    expect(sim.arrivals.filter((a) => a.destination === '14155554001').map((a) => [a.source, a.text])).toEqual([
      ['67890', OPT_OUT_TEXT],
      ['12345', OPT_IN_TEXT],
      ['12345', 'again from 12345'],
    ]);
  });
});
