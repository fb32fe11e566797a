/**
 * Webhook signatures (README "Hearing back"): `X-Parley-Signature: v1=<hex HMAC-SHA256 of
 * "<timestamp>.<body>">` with `X-Parley-Timestamp` in Unix seconds. Signing the timestamp with the
 * body lets a receiver refuse replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks a signature and that the timestamp is recent enough. */
export function verifyWebhook(
  secret: string,
  timestamp: string | undefined,
  body: string,
  signature: string | undefined,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
