import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

/**
 * Every message reached the SMSC at least once; a message that reached it more than once was
 * flagged as a possible duplicate. Destinations are unique per message, so arrivals map to it.
 */
async function checkNoneLostDuplicatesFlagged(h: Harness, sim: Simulator, count: number, prefix: string): Promise<number> {
  const arrivals = sim.arrivals.filter((a) => a.status === 'accepted');
  const perDestination = new Map<string, number>();
  for (const a of arrivals) perDestination.set(a.destination, (perDestination.get(a.destination) ?? 0) + 1);
  expect(perDestination.size).toBe(count);
  const flagged = new Set(
    (await h.schema.db.selectFrom('segments').select('message_id').where('possible_duplicate', '=', true).execute()).map((r) => r.message_id),
  );
  let duplicates = 0;
  for (const [destination, n] of perDestination) {
    if (n > 1) {
      duplicates++;
      expect(flagged.has(`${prefix}${Number(destination.slice(-6))}`), `message to ${destination} sent ${n} times without a flag`).toBe(true);
    }
  }
  return duplicates;
}

describe('resilience', () => {
  it('the SMSC restarted mid-stream: every message is still submitted, none lost', async () => {
    const sim = await h.startSim({ keep: 20_000 });
    const config = h.config({
      smscs: [simSmsc('sim', sim, { window: 50, response_timeout: '1s' })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
    });
    await h.startDaemon(config);
    const count = 2000;
    await h.send(Array.from({ length: count }, (_, i) => ({ id: `r${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `restart ${i}` })));
    await h.until('some submitted', async () => (await h.acceptedCount()) > 300);
    await sim.restart({ abrupt: true, downMs: 500 });
    await h.until('all submitted', async () => (await h.acceptedCount()) === count, 30_000);
    await checkNoneLostDuplicatesFlagged(h, sim, count, 'r');
    expect(sim.stats.binds.total).toBeGreaterThanOrEqual(1);
  });

  it('stop with 5,000 queued: a clean stop within the grace time; the next daemon sends the rest, none lost', async () => {
    const sim = await h.startSim({ keep: 20_000 });
    const raw = {
      smscs: [simSmsc('sim', sim, { window: 100 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1500, default_from: '12345' }],
      shutdown: { grace: '2s', force: '10s' },
    };
    const first = await h.startDaemon(h.config(raw));
    const count = 5000;
    await h.send(Array.from({ length: count }, (_, i) => ({ id: `q${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `queued ${i}` })));
    await h.until('sending under way', async () => (await h.acceptedCount()) > 500);
    const t0 = Date.now();
    const result = await first.service.stop();
    const stopMs = Date.now() - t0;
    expect(result).toBe('clean');
    expect(stopMs).toBeLessThan(2000 + 1000);
    expect(await h.acceptedCount()).toBeLessThan(count);

    // A new daemon (another consumer name, as after a restart) picks up both what Postgres holds
    // as queued and what is still on the stream.
    await h.startDaemon(h.config(raw));
    await h.until('all submitted', async () => (await h.acceptedCount()) === count, 30_000);
    const duplicates = await checkNoneLostDuplicatesFlagged(h, sim, count, 'q');
    // A clean stop drains its windows: nothing should have been in doubt.
    expect(duplicates).toBe(0);
  });
});
