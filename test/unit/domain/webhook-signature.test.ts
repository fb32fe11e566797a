import { describe, expect, it } from 'vitest';
import { WebhookReplayGuard, signWebhook, verifyWebhook } from '../../../src/domain/webhook-signature.ts';

const SECRET = '0123456789abcdef-secret';
const NOW = 1_800_000_000;
const body = '{"type":"message.inbound","id":"r1"}';
const signed = (ts: number) => [String(ts), signWebhook(SECRET, ts, body)] as const;

describe('verifyWebhook', () => {
  it.each<[string, number, boolean]>([
    ['now', NOW, true],
    ['4 minutes old', NOW - 240, true],
    ['at the 5-minute tolerance', NOW - 300, true],
    ['past the tolerance', NOW - 301, false],
    ['a clock 5 s ahead (the allowed skew)', NOW + 5, true],
    ['6 s in the future', NOW + 6, false],
    ['4 minutes in the future (accepted before: it stretched a replay window to 10 minutes)', NOW + 240, false],
  ])('a timestamp %s: %s', (_what, ts, ok) => {
    const [t, sig] = signed(ts);
    expect(verifyWebhook(SECRET, t, body, sig, 300, NOW)).toBe(ok);
  });

  it('takes its own tolerance and skew', () => {
    const [t, sig] = signed(NOW + 30);
    expect(verifyWebhook(SECRET, t, body, sig, 300, NOW)).toBe(false);
    expect(verifyWebhook(SECRET, t, body, sig, 300, NOW, 30)).toBe(true);
  });

  it('refuses a changed body, another secret, a missing or malformed header', () => {
    const [t, sig] = signed(NOW);
    expect(verifyWebhook(SECRET, t, `${body} `, sig, 300, NOW)).toBe(false);
    expect(verifyWebhook('another-secret-0123456789', t, body, sig, 300, NOW)).toBe(false);
    expect(verifyWebhook(SECRET, undefined, body, sig, 300, NOW)).toBe(false);
    expect(verifyWebhook(SECRET, t, body, undefined, 300, NOW)).toBe(false);
    expect(verifyWebhook(SECRET, `${t}.5`, body, sig, 300, NOW)).toBe(false);
  });
});

describe('WebhookReplayGuard', () => {
  it('accepts a request once; the same request again is a replay until it is too old to verify anyway', () => {
    const guard = new WebhookReplayGuard();
    const [t, sig] = signed(NOW);
    expect(guard.accept(SECRET, t, body, sig, NOW)).toBe(true);
    expect(guard.accept(SECRET, t, body, sig, NOW + 1)).toBe(false);
    expect(guard.accept(SECRET, t, body, sig, NOW + 300)).toBe(false);
    expect(guard.accept(SECRET, t, body, sig, NOW + 301)).toBe(false); // stale: verifyWebhook refuses it
  });

  it('accepts different requests, refuses invalid ones, and forgets what has expired', () => {
    const guard = new WebhookReplayGuard();
    const [t1, s1] = signed(NOW);
    const [t2, s2] = signed(NOW + 1);
    expect(guard.accept(SECRET, t1, body, s1, NOW)).toBe(true);
    expect(guard.accept(SECRET, t2, body, s2, NOW + 1)).toBe(true);
    expect(guard.accept(SECRET, t2, body, 'v1=00', NOW + 1)).toBe(false);
    const [t3, s3] = signed(NOW + 400);
    expect(guard.accept(SECRET, t3, body, s3, NOW + 400)).toBe(true);
    expect((guard as unknown as { seen: Map<string, number> }).seen.size).toBe(1);
  });
});
