/**
 * One signed POST to a webhook. Never throws: a network error, a timeout or a non-2xx answer come
 * back as values the caller turns into a retry or a fallback.
 *
 * The answer is streamed and counted as it arrives: at `MAX_ANSWER_BYTES` the request is aborted
 * and the answer is a failure. Reading it whole first let one 100 MB answer take the daemon's RSS
 * from 143 to 451 MB (issue 9).
 */
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../domain/webhook-signature.ts';

export interface WebhookTarget {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  /** Calls to this webhook in flight at once (rules' calls; others wait their turn). */
  readonly concurrency?: number;
}

export type PostResult =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly delivery: string }
  | { readonly ok: false; readonly status: number | null; readonly error: string; readonly body?: string; readonly delivery: string };

/** Answers are read up to this size; a webhook has no reason to send more. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export async function postWebhook(target: WebhookTarget, payload: unknown, now = Date.now(), maxAnswerBytes = MAX_ANSWER_BYTES): Promise<PostResult> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(now / 1000);
  // Unique per POST, so a receiver can drop one it has already seen (a replay, or a duplicate).
  const delivery = randomUUID();
  const tooLarge = new AbortController();
  try {
    const { url, authorization } = splitCredentials(target.url);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhook/1',
        'x-parley-timestamp': String(timestamp),
        'x-parley-delivery': delivery,
        'x-parley-signature': signWebhook(target.secret, timestamp, body),
        ...(authorization === undefined ? {} : { authorization }),
      },
      body,
      signal: AbortSignal.any([AbortSignal.timeout(target.timeoutMs), tooLarge.signal]),
      redirect: 'error',
    });
    const text = await readCapped(res, maxAnswerBytes, tooLarge);
    if (text === undefined) {
      return { ok: false, status: res.status, error: `the answer is larger than ${maxAnswerBytes} bytes; stopped reading at the cap`, delivery };
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body: text, delivery };
    return { ok: false, status: res.status, error: `HTTP ${res.status}`, body: text, delivery };
  } catch (err) {
    const e = err as Error;
    const reason = e.name === 'TimeoutError' ? `no answer within ${target.timeoutMs} ms` : (e.cause as Error | undefined)?.message ?? e.message;
    return { ok: false, status: null, error: reason, delivery };
  }
}

/**
 * `https://user:pass@host/x` as fetch takes it: the URL without its credentials (fetch refuses a
 * URL with them) and HTTP Basic authorization carrying them, as a browser or curl would send.
 */
function splitCredentials(raw: string): { url: string; authorization?: string } {
  const u = new URL(raw);
  if (u.username === '' && u.password === '') return { url: raw };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/**
 * The answer's text, or undefined when it is longer than `cap` octets: then the request is aborted
 * (the connection closed) without reading the rest. A declared content-length over the cap is
 * refused before reading anything.
 */
async function readCapped(res: Response, cap: number, abort: AbortController): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    abort.abort();
    return undefined;
  }
  if (res.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      abort.abort();
      await reader.cancel().catch(() => undefined); // already aborted: nothing left to tell
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
