import { describe, expect, it } from 'vitest';
import { AdaptiveThrottle } from '../../../src/outbound/route-throttle.ts';

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
