import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

/** Most arrivals in any window of `windowMs` (sliding over every arrival). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('route throttle', () => {
  it('a 50 TPS route never sends more than 50 + burst segments in any one-second window', async () => {
    const sim = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('sim', sim, { window: 100 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 50, burst: 5, default_from: '12345' }],
    });
    await h.startDaemon(config);
    const count = 275; // 5.5 s of traffic at 50/s
    await h.send(Array.from({ length: count }, (_, i) => ({ id: `t${i}`, to: '+14155550100', text: `tps ${i}` })));
    await h.until('all submitted', async () => (await h.acceptedCount()) === count, 20_000);
    const times = sim.arrivals.map((a) => a.atMs);
    expect(times).toHaveLength(count);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(50 + 5);
    // And it is not absurdly slow either: the whole run took about count/50 seconds.
    const spanMs = Math.max(...times) - Math.min(...times);
    expect(spanMs).toBeGreaterThan(((count - 5) / 50) * 1000 * 0.9);
  });

  it('an SMSC answering ESME_RTHROTTLED slows the route down without unbinding, and everything gets through', async () => {
    const sim = await h.startSim({ tps: 100, tpsBurst: 20 });
    const config = h.config({
      smscs: [simSmsc('sim', sim, { window: 50 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
    });
    const daemon = await h.startDaemon(config);
    const count = 300;
    await h.send(Array.from({ length: count }, (_, i) => ({ id: `r${i}`, to: '+14155550100', text: `throttled ${i}` })));
    await h.until('all submitted', async () => (await h.acceptedCount()) === count, 30_000);
    const stats = sim.stats;
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.submits).toBe(count);
    // One bind, never dropped.
    expect(stats.binds.total).toBe(1);
    expect(daemon.pools.get('sim')!.binds[0]!.state).toBe('bound');
    const accepted = sim.arrivals.filter((a) => a.status === 'accepted');
    expect(new Set(accepted.map((a) => a.messageId)).size).toBe(count);
  });
});
