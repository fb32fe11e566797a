/**
 * The webhook action: the reply goes to a third-party API (signed, as every webhook); a 2xx answer
 * carrying `{ "reply": "…" }` is the text to send back. Anything else is a failure the caller
 * answers with the rule's fallback.
 */
import { postWebhook, type WebhookTarget } from '../../webhooks/post.ts';
import type { MessageInboundEvent } from '../../domain/events.ts';

export type WebhookAnswer =
  | { readonly ok: true; readonly reply: string | undefined; readonly seconds: number }
  | { readonly ok: false; readonly error: string; readonly seconds: number };

export async function askWebhook(target: WebhookTarget, event: MessageInboundEvent): Promise<WebhookAnswer> {
  const started = performance.now();
  const result = await postWebhook(target, event);
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) return { ok: false, error: result.error, seconds };
  if (result.body.trim() === '') return { ok: true, reply: undefined, seconds };
  try {
    const parsed: unknown = JSON.parse(result.body);
    const reply = typeof parsed === 'object' && parsed !== null ? (parsed as { reply?: unknown }).reply : undefined;
    if (reply !== undefined && typeof reply !== 'string') return { ok: false, error: '"reply" in the answer is not a string', seconds };
    return { ok: true, reply: reply === '' ? undefined : reply, seconds };
  } catch {
    return { ok: false, error: 'the answer is not JSON', seconds };
  }
}
