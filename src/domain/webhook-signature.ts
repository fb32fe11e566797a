/**
 * Webhook signatures (README "Hearing back"): `X-Parley-Signature: v1=<hex HMAC-SHA256 of
 * "<timestamp>.<body>">` with `X-Parley-Timestamp` in Unix seconds. Signing the timestamp with the
 * body lets a receiver refuse stale requests; each POST also carries a unique `X-Parley-Delivery`.
 *
 * Replays: a captured request stays valid while its timestamp is within the tolerance. A receiver
 * that must refuse replays remembers what it accepted for that long (`WebhookReplayGuard`, keyed
 * on the signature, which an attacker cannot change without the secret) and refuses timestamps
 * from the future beyond a small clock skew, so the window cannot be stretched forward.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The secret's minimum length, in characters (checked at config validation). */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Past tolerance: a timestamp older than this is refused. */
const DEFAULT_TOLERANCE_SECONDS = 300;
/** Clock skew allowed into the future: a timestamp further ahead than this is refused. */
const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 5;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers (and tests): checks a signature, that the timestamp is at most `toleranceSeconds`
 * old and at most `maxFutureSkewSeconds` ahead of `nowSeconds`.
 */
export function verifyWebhook(
  secret: string,
  timestamp: string | undefined,
  body: string,
  signature: string | undefined,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  nowSeconds = Math.floor(Date.now() / 1000),
  maxFutureSkewSeconds = DEFAULT_MAX_FUTURE_SKEW_SECONDS,
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const age = nowSeconds - Number(timestamp);
  if (age > toleranceSeconds || -age > maxFutureSkewSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * For receivers: refuses a request whose signature it has already accepted within the tolerance.
 * Together with `verifyWebhook` (which bounds the window on both sides) a captured request cannot
 * be played again. Memory: one entry per request accepted in the last `toleranceSeconds`.
 */
export class WebhookReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, private readonly maxFutureSkewSeconds = DEFAULT_MAX_FUTURE_SKEW_SECONDS) {}

  /** True the first time a valid request is seen, false for an invalid one or a replay. */
  accept(secret: string, timestamp: string | undefined, body: string, signature: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    if (!verifyWebhook(secret, timestamp, body, signature, this.toleranceSeconds, nowSeconds, this.maxFutureSkewSeconds)) return false;
    for (const [sig, ts] of this.seen) {
      if (nowSeconds - ts <= this.toleranceSeconds) break; // oldest first: the rest are newer
      this.seen.delete(sig);
    }
    if (this.seen.has(signature!)) return false;
    this.seen.set(signature!, Number(timestamp));
    return true;
  }
}
