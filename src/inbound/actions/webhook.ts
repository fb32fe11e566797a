/**
 * The webhook action: the reply goes to a third-party API (signed, as every webhook); a 2xx answer
 * carrying `{ "reply": "…" }` is the text to send back. Anything else is a failure the caller
 * answers with the rule's fallback.
 */
import { postWebhook, type WebhookTarget } from '../../webhooks/post.ts';
import type { MessageInboundEvent } from '../../domain/events.ts';
import type { RuleAction } from '../../domain/rule-action.ts';
import { ConcurrencyLimit } from '../../lib/concurrency-limit.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ReplyObserver } from '../reply-store.ts';
import { renderTemplate, type TemplateValues } from '../template.ts';
import type { Answers } from './reply.ts';

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

const DEFAULT_WEBHOOK_CONCURRENCY = 8;

/** Per webhook name: calls in flight at once (`webhooks[].concurrency`), so one slow webhook holds up only its own callers. */
export class WebhookLimits {
  private readonly limits = new Map<string, ConcurrencyLimit>();

  /** The webhook's own limit; a reload's new `concurrency` applies as calls finish. */
  of(target: WebhookTarget): ConcurrencyLimit {
    const wanted = target.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
    let limit = this.limits.get(target.name);
    if (limit === undefined) this.limits.set(target.name, (limit = new ConcurrencyLimit(wanted)));
    else if (limit.limit !== wanted) limit.setLimit(wanted);
    return limit;
  }
}

export interface WebhookActionDeps {
  readonly webhooks: ReadonlyMap<string, WebhookTarget>;
  readonly limits: WebhookLimits;
  readonly log: Logger;
  readonly observer?: ReplyObserver;
}

/**
 * The `index`-th action of a match, a webhook: the reply is posted (as `ask`, the inbound event
 * with action `webhook`) within the webhook's limit, and its answer texted back; the rule's
 * fallback when it fails or is not configured.
 */
export async function runWebhookAction(
  action: Extract<RuleAction, { kind: 'webhook' }>,
  index: number,
  replyId: string,
  ask: MessageInboundEvent,
  values: TemplateValues,
  answers: Answers,
  deps: WebhookActionDeps,
): Promise<void> {
  const target = deps.webhooks.get(action.webhook);
  const fallback = action.fallback === undefined ? '' : renderTemplate(action.fallback, values);
  if (!target) {
    deps.log.error({ webhook: action.webhook, reply: replyId }, 'a rule names a webhook that is not configured; sending the fallback');
    answers.add(`a${index}`, fallback);
    return;
  }
  const result = await deps.limits.of(target).run(() => askWebhook(target, ask));
  if (result.ok) {
    deps.observer?.onWebhook?.(target.name, result.reply ? 'answered' : 'no_reply', result.seconds);
    if (result.reply) answers.add(`a${index}`, result.reply);
  } else {
    deps.observer?.onWebhook?.(target.name, 'failed', result.seconds);
    deps.log.warn({ webhook: target.name, reply: replyId, error: result.error }, 'webhook failed; sending the fallback');
    answers.add(`a${index}`, fallback);
  }
}
