/**
 * The demo's four acts with one customer, each told as it plays out: a reminder answered YES; a
 * long Unicode notice answered with thanks nothing matches; an order looked up through the webhook;
 * STOP, its confirmation, and a send that is then refused. Each says whether the demo goes on.
 */
import type { ParleyConfig } from '../../config/index.ts';
import type { Simulator } from '../../simulator/index.ts';
import { DEMO_REMINDER_TEXT, DEMO_UNICODE_TEXT } from '../handset-script.ts';
import { plural, type Narrator } from './narration.ts';
import type { OrderService } from './order-service.ts';
import { DEMO_NO_ANSWER, DEMO_ORDER_TEXT, DEMO_PROMO_TEXT, DEMO_YES_ANSWER, orderAnswer } from './script.ts';
import { isFinal, newReplies, repliesSettled, replyIds, type Watcher } from './watcher.ts';

/** After a refused send, how long the demo watches the wire to show that nothing went out. */
const QUIET_WIRE_MS = 400;

/** What every act uses: the narrator, the watcher, and the demo's ways to send and to play the customer. */
export interface Stage {
  readonly n: Narrator;
  readonly w: Watcher;
  readonly config: ParleyConfig;
  readonly simulator: Simulator;
  /** Our number the customer talks to. */
  readonly ours: string;
  /** The customer, digits as stored, and as E.164. */
  readonly customer: string;
  readonly customerE164: string;
  readonly waitMs: number;
  /** This run's message ids. */
  readonly ids: { readonly reminder: string; readonly results: string; readonly promo: string };
  readonly failures: string[];
  /** Adds a payload to the outbound stream, as an app does. */
  send(payload: Record<string, unknown>): Promise<void>;
  /** The customer sends `text` to our number. */
  inject(text: string): void;
  /** Records an act that did not play out; true when the demo goes on. */
  acted(ok: boolean, what: string): boolean;
}

export async function playReminderAct(c: Stage): Promise<boolean> {
  const { n, w, failures } = c;
  n.step(`5. Act 1: an appointment reminder that expects YES or NO; the customer answers YES`);
  n.mark();
  const before = replyIds(w.snapshot);
  await c.send({
    id: c.ids.reminder,
    to: c.customerE164,
    from: c.ours,
    text: DEMO_REMINDER_TEXT,
    replies: { YES: { reply: DEMO_YES_ANSWER }, NO: { reply: DEMO_NO_ANSWER } },
    metadata: { patient: 'Sam', appointment: 'tomorrow 10:00' },
  });
  const going = c.acted(await w.until((s) => isFinal(s.timelines.get(c.ids.reminder)) && repliesSettled(s, before, 1), c.waitMs), 'act 1');
  const yes = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
  if (going) {
    const answer = yes?.answerMessageId ? w.snapshot?.timelines.get(yes.answerMessageId) : undefined;
    if (yes?.matchedKind === 'expected_reply' && answer?.message.text === DEMO_YES_ANSWER) {
      n.say(`  In short: "${yes.text}" matched the reminder's expected reply ${yes.keyword ?? ''}; the confirmation went back and is ${answer.message.status}.`);
    } else {
      failures.push('act 1: the YES was not answered with the expected reply');
      n.say('  (the YES was not answered with the expected reply: see above)');
    }
  }
  return going;
}

export async function playUnicodeAct(c: Stage): Promise<boolean> {
  const { n, w, failures } = c;
  n.step('6. Act 2: a long Unicode notice (UCS-2, 3 parts); the customer answers with thanks that no rule matches');
  n.mark();
  const before = replyIds(w.snapshot);
  await c.send({ id: c.ids.results, to: c.customerE164, from: c.ours, text: DEMO_UNICODE_TEXT });
  const going = c.acted(await w.until((s) => isFinal(s.timelines.get(c.ids.results)) && repliesSettled(s, before, 1), c.waitMs), 'act 2');
  if (going) {
    const t = w.snapshot?.timelines.get(c.ids.results);
    const thanks = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
    n.say(
      `  In short: ${t?.segments.length ?? 0} parts, ${t?.receipts.length ?? 0} receipts matched, the notice is ${t?.message.status ?? '?'}; ` +
        `the thanks matched ${thanks?.matchedKind === 'none' ? `nothing, so ${c.ours}'s unmatched policy answered it` : (thanks?.matchedKind ?? '?')}.`,
    );
    if (t?.message.status !== 'delivered' || t.receipts.length !== 3) failures.push('act 2: the Unicode notice was not delivered in 3 receipted parts');
  }
  return going;
}

export async function playOrderAct(c: Stage, orders: OrderService): Promise<boolean> {
  const { n, w, failures } = c;
  n.step(`7. Act 3: the customer asks "${DEMO_ORDER_TEXT}"; the rule hands it to the order-status service, whose answer is texted back`);
  n.mark();
  const before = replyIds(w.snapshot);
  c.inject(DEMO_ORDER_TEXT);
  const going = c.acted(await w.until((s) => repliesSettled(s, before, 1), c.waitMs), 'act 3');
  if (going) {
    const order = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
    const answer = order?.answerMessageId ? w.snapshot?.timelines.get(order.answerMessageId) : undefined;
    const call = orders.calls.find((x) => x.replyId === order?.id);
    if (call?.verified && answer?.message.text === orderAnswer('1234')) {
      n.say(`  In short: the signed webhook call was verified, the service answered, and its text went back to the customer (${answer.message.status}).`);
    } else {
      failures.push("act 3: the order-status service's answer did not go back");
      n.say("  (the order-status service's answer did not go back: see above)");
    }
  }
  return going;
}

export async function playStopAct(c: Stage): Promise<boolean> {
  const { n, w, failures, ours } = c;
  const promoId = c.ids.promo;
  n.step('8. Act 4: the customer sends STOP; one confirmation goes back, and the next message to them is refused');
  n.mark();
  const before = replyIds(w.snapshot);
  c.inject('STOP');
  let going = c.acted(await w.until((s) => repliesSettled(s, before, 1), c.waitMs), 'act 4 (STOP)');
  const stop = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
  if (going) {
    const useDefault = c.config.routes.some((x) => x.defaultFrom === ours);
    n.say(`  Then the app sends a promotion${useDefault ? ` without "from" (the route's default_from ${ours} applies)` : ''}:`);
    await c.send({ id: promoId, to: c.customerE164, ...(useDefault ? {} : { from: ours }), text: DEMO_PROMO_TEXT });
    going = c.acted(await w.until((s) => isFinal(s.timelines.get(promoId)), c.waitMs), 'act 4 (the refused send)');
    await w.watch(QUIET_WIRE_MS);
    const s = w.snapshot;
    const promo = s?.timelines.get(promoId)?.message;
    const onWire = c.simulator.arrivals.some((a) => a.destination === c.customer && a.text === DEMO_PROMO_TEXT);
    const confirmations = s?.thread.entries.filter((e) => e.direction === 'out' && stop !== undefined && e.replyTo === stop.id) ?? [];
    n.say(
      `  In short: ${stop?.matchedKind === 'compliance' ? `${stop.keyword ?? 'STOP'} opted the customer out` : 'STOP was not taken as an opt-out'}; ` +
        `${plural(confirmations.length, 'confirmation')} sent; ${promoId} is ${promo?.status ?? '?'}${promo?.errorCode ? ` (${promo.errorCode})` : ''}` +
        `${onWire ? ' but it reached the SMSC!' : `, and no submit_sm for it reached the SMSC in the ${QUIET_WIRE_MS} ms watched`}.`,
    );
    if (stop?.matchedKind !== 'compliance' || confirmations.length !== 1) failures.push('act 4: STOP did not get exactly one confirmation');
    if (promo?.status !== 'failed' || promo.errorCode !== 'opted_out' || onWire) failures.push('act 4: the send after STOP was not refused as opted_out');
  }
  return going;
}
