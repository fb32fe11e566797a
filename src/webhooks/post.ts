/**
 * One signed POST to a webhook. Never throws: a network error, a timeout or a non-2xx answer come
 * back as values the caller turns into a retry or a fallback.
 */
import { signWebhook } from '../domain/webhook-signature.ts';

export interface WebhookTarget {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

export type PostResult =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly status: number | null; readonly error: string; readonly body?: string };

/** Answers are read up to this size; a webhook has no reason to send more. */
const MAX_ANSWER_BYTES = 64 * 1024;

export async function postWebhook(target: WebhookTarget, payload: unknown, now = Date.now()): Promise<PostResult> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(now / 1000);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhook/1',
        'x-parley-timestamp': String(timestamp),
        'x-parley-signature': signWebhook(target.secret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs),
      redirect: 'error',
    });
    const text = (await res.text()).slice(0, MAX_ANSWER_BYTES);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body: text };
    return { ok: false, status: res.status, error: `HTTP ${res.status}`, body: text };
  } catch (err) {
    const e = err as Error;
    const reason = e.name === 'TimeoutError' ? `no answer within ${target.timeoutMs} ms` : (e.cause as Error | undefined)?.message ?? e.message;
    return { ok: false, status: null, error: reason };
  }
}
