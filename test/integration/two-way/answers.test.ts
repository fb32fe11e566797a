/**
 * Auto-replies are ordinary outbound messages: throttled by their route, tracked (a message row
 * answering the reply, a segment with the carrier's id) and receipted. And the analytics facts
 * each reply leaves: how it was matched, whether it was resolved automatically, and the time from
 * its arrival to its answer's submit_sm_resp.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, messageRow, replyRows, untilHandled } from '../../support/two-way.ts';
import { readStatusHistory } from '../../../src/store/timeline.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

const TPS = 10;

describe('auto-replies', () => {
  it('are throttled, tracked and receipted like any message, and each reply records how it was matched and how fast it was answered', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    const daemon = await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: TPS, burst: 1, default_from: '12345' }],
        numbers: [{ address: '12345' }],
      }),
    );
    const customers = [1, 2, 3, 4, 5].map((i) => `1415557100${i}`);
    await h.send(
      customers.map((c, i) => ({
        id: `remind-${i + 1}`,
        to: `+${c}`,
        text: 'Your table for two is booked for 19:30. Reply YES to confirm.',
        replies: { YES: { reply: 'Thanks {{ metadata.name }}, see you at 19:30.' } },
        metadata: { name: `Guest ${i + 1}` },
      })),
    );
    await h.until('reminders submitted', async () => (await h.acceptedCount('remind-%')) === customers.length);
    const arrivalsBefore = sim.arrivals.length;

    // Five confirmations at once, and one message nothing matches.
    const injected = [...customers.map((c) => sim.injectReply({ from: c, to: '12345', text: 'YES' })), sim.injectReply({ from: '14155571009', to: '12345', text: 'Can I bring a dog?' })];
    expect(await Promise.all(injected.map((i) => i.acked))).toEqual(injected.map(() => true));
    await untilHandled(h, 6);
    const replies = await replyRows(h);
    const confirmations = replies.filter((r) => r.body === 'YES');
    expect(confirmations).toHaveLength(5);
    const answerIds = confirmations.map((r) => r.answer_message_id!);
    await h.until('answers delivered', async () => {
      const rows = await h.schema.db.selectFrom('messages').select('status').where('id', 'in', answerIds).execute();
      return rows.length === 5 && rows.every((r) => r.status === 'delivered');
    });

    // Throttled: the route's 10/s with a burst of 1 spaces the five answers ~100 ms apart.
    const answerArrivals = sim.arrivals.slice(arrivalsBefore).filter((a) => a.text.startsWith('Thanks Guest'));
    expect(answerArrivals).toHaveLength(5);
    const times = answerArrivals.map((a) => a.atMs).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((4 * 1000 * 0.75) / TPS);

    for (const [i, reply] of confirmations.entries()) {
      const customer = reply.from_addr;
      const n = customers.indexOf(customer) + 1;
      expect(n).toBeGreaterThan(0);
      const answerId = reply.answer_message_id!;
      expect(answerId, `reply ${i}`).toBe(`a0-${reply.id}`);
      // Tracked: a message row answering the reply, sent from the number written to.
      const answer = await messageRow(h, answerId);
      expect(answer).toMatchObject({
        to_addr: customer,
        from_addr: '12345',
        body: `Thanks Guest ${n}, see you at 19:30.`,
        reply_to: reply.id,
        priority: 3,
        dlr: true,
        status: 'delivered',
        smsc: 'sim',
        segments: 1,
        metadata: { reply_to: reply.id },
      });
      // Its segment carries the carrier's id, the one the simulator answered.
      const segments = await h.schema.db.selectFrom('segments').selectAll().where('message_id', '=', answerId).execute();
      const onWire = answerArrivals.find((a) => a.destination === customer)!;
      expect(segments).toEqual([expect.objectContaining({ seq: 1, total: 1, smsc: 'sim', smsc_message_id: onWire.messageId, status: 'delivered' })]);
      expect(onWire.registeredDelivery & 0x03).toBe(1);
      // Receipted: the simulator's receipt matched it, and its status history is the usual one.
      const receipts = await h.schema.db.selectFrom('receipts').select(['state', 'smsc_message_id']).where('message_id', '=', answerId).execute();
      expect(receipts).toEqual([{ state: 'DELIVERED', smsc_message_id: onWire.messageId }]);
      const events = await readStatusHistory(h.schema.db, [answerId]);
      expect(events.map((e) => e.status)).toEqual(['queued', 'submitted', 'delivered']);

      // Analytics facts: matched, resolved, and arrival -> the answer's submit_sm_resp.
      expect(reply).toMatchObject({ matched_kind: 'expected_reply', keyword: 'YES', resolved_automatically: true, in_reply_to: `remind-${n}` });
      const answeredInMs = answer!.submitted_at!.getTime() - reply.received_at.getTime();
      expect(answeredInMs).toBeGreaterThanOrEqual(0);
      expect(answeredInMs).toBeLessThan(5_000);
      expect(reply.handled_at!.getTime()).toBeGreaterThanOrEqual(reply.received_at.getTime());
      expect(segments[0]!.responded_at!.getTime()).toBeGreaterThanOrEqual(reply.received_at.getTime());
    }
    // Throttling shows in the facts too: the last answer waited for its turn.
    const waits = await Promise.all(confirmations.map(async (r) => (await messageRow(h, r.answer_message_id!))!.submitted_at!.getTime() - r.received_at.getTime()));
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual((3 * 1000) / TPS);

    const unmatched = replies.find((r) => r.from_addr === '14155571009')!;
    expect(unmatched).toMatchObject({ matched_kind: 'none', resolved_automatically: false, answer_message_id: null, in_reply_to: null });

    // The same facts as metrics.
    const latency = await daemon.metrics.autoReplyLatency.get();
    expect(latency.values.find((v) => v.metricName === 'parley_auto_reply_seconds_count')?.value).toBe(5);
    const counted = (await daemon.metrics.replies.get()).values.map((v) => [v.labels.matched, v.labels.resolved, v.value]);
    expect(counted.sort()).toEqual(
      [
        ['expected_reply', 'true', 5],
        ['none', 'false', 1],
      ].sort(),
    );
  });
});
