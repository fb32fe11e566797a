/**
 * Scheduled sends and quiet hours through the daemon (real Postgres, Redis and SMSC simulator),
 * with the daemon's clock injected to stand at 07:59:57 in Paris on a March morning: a message
 * with send_at 2 s ahead and one inside the number's quiet hours (21:00-08:00, the recipient's
 * zone from the number) are held, not dropped, and sent when their time comes; an unheld message
 * and an answer to a customer who just wrote go at once; a US number (several zones) waits until
 * 08:00 in the westernmost.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, messageRow, sleep, untilHandled } from '../../support/two-way.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

// 06:59:57Z is 07:59:57 in Paris (UTC+1 until the end of March).
const FAKE_START = Date.parse('2026-03-10T06:59:57.000Z');

describe('scheduled sends and quiet hours', () => {
  it('holds a message scheduled 2 s ahead and one inside quiet hours, then sends both; answers and others go at once', async () => {
    const offset = FAKE_START - Date.now();
    const clock = (): Date => new Date(Date.now() + offset);
    const sim: Simulator = await h.startSim({ receiptDelayMs: 20 });
    const daemon = await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '67890' }],
        numbers: [{ address: '12345', quiet_hours: { start: '21:00', end: '08:00' } }, { address: '67890' }],
      }),
      { clock },
    );
    const arrived = (to: string): boolean => sim.arrivals.some((a) => a.destination === to);

    // A customer writes to the quiet number just before 08:00; the app answers at once.
    expect(await sim.injectReply({ from: '33612345681', to: '12345', text: 'Is my order ready?' }).acked).toBe(true);
    await untilHandled(h, 1);

    const sendAt = new Date(clock().getTime() + 2_000);
    await h.send([
      { id: 'quiet', from: '12345', to: '+33612345678', text: 'Your order is ready (quiet hours)' },
      { id: 'later', from: '67890', to: '+33612345679', text: 'Scheduled 2 s ahead', send_at: sendAt.toISOString() },
      { id: 'now', from: '67890', to: '+33612345680', text: 'No quiet hours on this number' },
      { id: 'answer', from: '12345', to: '+33612345681', text: 'Yes, it is ready.' },
      { id: 'us', from: '12345', to: '+14155550100', text: 'US number: every US zone must be past 08:00' },
    ]);
    await h.until('the unheld messages sent', () => arrived('33612345680') && arrived('33612345681'));
    expect(arrived('33612345678')).toBe(false);
    expect(arrived('33612345679')).toBe(false);

    // Held: stored, queued, owned by nobody, with the instant and the reason.
    const quiet = await messageRow(h, 'quiet');
    expect(quiet).toMatchObject({ status: 'queued', owner: null, held_reason: 'quiet_hours' });
    expect(quiet!.send_at!.toISOString()).toBe('2026-03-10T07:00:00.000Z');
    const later = await messageRow(h, 'later');
    expect(later).toMatchObject({ status: 'queued', owner: null, held_reason: 'scheduled' });
    expect(later!.send_at!.getTime()).toBe(sendAt.getTime());
    expect(await messageRow(h, 'now')).toMatchObject({ send_at: null, held_reason: null });
    expect(await messageRow(h, 'answer')).toMatchObject({ send_at: null, held_reason: null });
    // 08:00 in Hawaii, the westernmost US zone with people in it.
    expect((await messageRow(h, 'us'))!.send_at!.toISOString()).toBe('2026-03-10T18:00:00.000Z');

    // Then sent, each no earlier than its time by the daemon's clock.
    await h.until('both held messages sent', () => arrived('33612345678') && arrived('33612345679'), 15_000);
    await h.until('both accepted', async () => (await h.acceptedCount('quiet')) + (await h.acceptedCount('later')) === 2);
    for (const id of ['quiet', 'later']) {
      const row = (await messageRow(h, id))!;
      expect(row.submitted_at, id).not.toBeNull();
      // submitted_at is Postgres's clock; the daemon's is it plus the offset (one machine: within 50 ms).
      expect(row.submitted_at!.getTime() + offset, id).toBeGreaterThanOrEqual(row.send_at!.getTime() - 50);
    }
    expect(sim.arrivals.find((a) => a.destination === '33612345678')?.text).toBe('Your order is ready (quiet hours)');
    await sleep(300);
    expect(arrived('14155550100')).toBe(false);
    expect(await messageRow(h, 'us')).toMatchObject({ status: 'queued', owner: null, held_reason: 'quiet_hours' });

    const held = (await daemon.metrics.messagesHeld.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(held).toEqual(expect.arrayContaining([['quiet_hours', 2], ['scheduled', 1]]));
    expect((await daemon.metrics.messagesReleased.get()).values[0]?.value).toBe(2);
  });
});
