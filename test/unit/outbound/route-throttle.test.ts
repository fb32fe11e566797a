import { describe, expect, it } from 'vitest';
import { AdaptiveThrottle, SharedRouteThrottle, REJOIN_GRACE_MS, type SharedBucket } from '../../../src/outbound/route-throttle.ts';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function takeAll(th: AdaptiveThrottle): number {
  let n = 0;
  while (th.tryAcquire()) n++;
  return n;
}

describe('AdaptiveThrottle', () => {
  it('starts with its burst and refills at its rate', () => {
    const c = clock();
    const th = new AdaptiveThrottle(50, 5, c.now);
    expect(takeAll(th)).toBe(5);
    c.advance(100);
    expect(takeAll(th)).toBe(5);
    c.advance(1000);
    expect(takeAll(th)).toBe(5); // capped at the burst
  });

  it('halves the rate on a throttling answer, once a second at most, and recovers on accepted segments', () => {
    const c = clock();
    const th = new AdaptiveThrottle(100, 10, c.now);
    th.onThrottled();
    expect(th.currentRate).toBe(50);
    th.onThrottled(); // within the same second: counted once
    expect(th.currentRate).toBe(50);
    expect(takeAll(th)).toBe(0); // what was saved is spent
    c.advance(100);
    expect(takeAll(th)).toBe(5);
    c.advance(1000);
    th.onThrottled();
    expect(th.currentRate).toBe(25);
    for (let i = 0; i < 300; i++) th.onAccepted();
    expect(th.currentRate).toBe(100);
  });

  it('takes a new rate and burst on reconfigure', () => {
    const c = clock();
    const th = new AdaptiveThrottle(10, 1, c.now);
    takeAll(th);
    th.reconfigure(200, 20);
    c.advance(100);
    expect(takeAll(th)).toBe(20);
    expect(th.currentRate).toBe(200);
  });

  it('acquire waits for the next token and gives up when aborted', async () => {
    const th = new AdaptiveThrottle(100, 1);
    expect(await th.acquire()).toBe(true);
    const t0 = performance.now();
    expect(await th.acquire()).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(5);
    const controller = new AbortController();
    const slow = new AdaptiveThrottle(0.1, 1);
    slow.tryAcquire();
    setTimeout(() => controller.abort(), 20);
    expect(await slow.acquire(controller.signal)).toBe(false);
  });
});

describe('SharedRouteThrottle', () => {
  /** A shared bucket that grants whatever is asked while up (so only the local share can hold a daemon back), and fails at once while down. */
  function bucket(): SharedBucket & { down: boolean; leases: number } {
    const b = {
      down: false,
      leases: 0,
      lease: async (_rate: number, _burst: number, want: number) => {
        if (b.down) throw new Error('Connection is closed.');
        b.leases++;
        return { granted: want, factor: 1, waitMs: 0 };
      },
      slowDown: async () => 1,
    };
    return b;
  }

  it('falls back to rate ÷ live daemons with nothing saved, comes back by a probe, and keeps to its share through the rejoin grace', { timeout: 15_000 }, async () => {
    const b = bucket();
    const modes: boolean[] = [];
    const th = new SharedRouteThrottle({ route: 'r', rate: 100, burst: 10, bucket: b, liveDaemons: () => 2, onModeChange: (shared) => modes.push(shared) });
    expect(await th.acquire()).toBe(true);
    expect(th.isShared).toBe(true);

    b.down = true;
    const t0 = performance.now();
    let n = 0;
    // 1 s on the fallback: 50/s and no saved burst (drained on entry), so at most ~50 + 1.
    while (performance.now() - t0 < 1000) if (await th.acquire()) n++;
    expect(modes).toEqual([false]);
    expect(th.isShared).toBe(false);
    expect(th.currentRate).toBe(50);
    expect(n).toBeLessThanOrEqual(52);
    expect(n).toBeGreaterThan(0);

    b.down = false;
    // A probe (every 0.25-1 s) finds the bucket again while sends go on.
    const t1 = performance.now();
    while (!th.isShared && performance.now() - t1 < 3000) await th.acquire();
    expect(th.isShared).toBe(true);
    expect(modes).toEqual([false, true]);
    expect(th.inRejoinGrace).toBe(true);
    // In the grace the bucket would grant anything; the daemon still keeps to its 50/s share.
    const t2 = performance.now();
    let m = 0;
    while (performance.now() - t2 < 1000) if (await th.acquire()) m++;
    expect(m).toBeLessThanOrEqual(50 + 5 + 1);
    expect(th.currentRate).toBe(50);
    expect(REJOIN_GRACE_MS).toBeGreaterThan(2500);
  });
});
