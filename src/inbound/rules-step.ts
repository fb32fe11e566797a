/**
 * The intent and rules step, for a reply no earlier step took: the answered message's expected
 * replies and the number's keyword rules decide the actions (`rules.ts`), read with what the reply
 * means (`intent/`); an unclear reply no rule takes is read by the number's NLU webhook, and one
 * read but not surely enough to act on goes to the apps. Then the actions run (`actions/`).
 */
import type { PendingReply } from '../domain/reply.ts';
import type { WebhookTarget } from '../webhooks/post.ts';
import { runActions, type ActionDeps } from './actions/run-actions.ts';
import { classifyCompliance } from './compliance.ts';
import { answeredBy, pairOf, type BatchFacts } from './conversations.ts';
import { askNlu } from './intent/nlu.ts';
import type { ReplyReading } from './intent/reading.ts';
import type { NumberSettings } from './number-settings.ts';
import { inboundEvent, type Decision, type ReplyContext } from './reply-context.ts';
import { matchReply, type RuleMatch } from './rules.ts';
import type { TemplateValues } from './template.ts';

export async function handleRules(ctx: ReplyContext, deps: ActionDeps): Promise<Decision> {
  const { reply, settings, answered, conversation } = ctx;
  const input = {
    expected: answered?.replies ?? undefined,
    synonyms: settings.synonyms,
    rules: settings.rules,
    unmatched: settings.unmatched,
  };
  let match: RuleMatch = matchReply(reply.text, { ...input, ...ctx.reading.meaning });
  const nlu = nluOf(settings, deps.webhooks);
  if (match.kind === 'none' && nlu !== undefined && !ctx.reading.confident) {
    // The NLU webhook is a webhook like any: within its own concurrency limit.
    const asked = await deps.limits.of(nlu).run(() => askNlu(nlu, inboundEvent(ctx, { kind: 'none', keyword: null, action: 'nlu' })));
    deps.observer?.onWebhook?.(nlu.name, asked.ok ? (asked.intent ? 'answered' : 'no_reply') : 'failed', asked.seconds);
    if (!asked.ok) deps.log.warn({ webhook: nlu.name, reply: reply.id, error: asked.error }, 'NLU webhook failed; the built-in reading stands');
    else if (asked.intent !== undefined) {
      ctx.reading = ctx.reading.withNlu(asked.intent);
      match = ctx.reading.event.review ? { kind: 'none', actions: [{ kind: 'hand_to_apps' }] } : matchReply(reply.text, { ...input, ...ctx.reading.meaning });
    }
  }
  // Read, but not surely enough to act on: the apps answer, not the unmatched policy.
  if (match.kind === 'none' && ctx.reading.escalate) {
    match = { kind: 'none', actions: [{ kind: 'hand_to_apps' }] };
    ctx.reading = ctx.reading.escalated();
  }
  const values: TemplateValues = {
    metadata: answered?.metadata ?? {},
    tags: conversation.tags,
    groups: match.kind === 'keyword' ? match.groups : {},
    reply: { text: reply.text, from: reply.from, to: reply.to },
  };
  const { handedToApps, actionNames } = await runActions(ctx, match, values, deps);
  const keyword = match.kind === 'expected_reply' ? match.keyword : match.kind === 'keyword' ? (match.keyword ?? null) : null;
  // An answer to an opted-out customer is refused at intake: that is not a resolution.
  const resolved = match.kind !== 'none' && !handedToApps && ctx.answers.list.length > 0 && !ctx.optedOut;
  return {
    matched: { kind: match.kind, keyword, action: actionNames.join(',') || null },
    kind: match.kind,
    keyword,
    rule: match.kind === 'keyword' ? match.rule : null,
    actions: match.actions,
    resolved,
    handling: ctx.reading.event.escalated ? 'escalated' : resolved ? 'automatic' : 'apps',
  };
}

function nluOf(settings: NumberSettings, webhooks: ReadonlyMap<string, WebhookTarget>): WebhookTarget | undefined {
  return settings.intents.nluWebhook === undefined ? undefined : webhooks.get(settings.intents.nluWebhook);
}

/**
 * Whether handling this reply calls a webhook: the decision the steps make, read-only, so that a
 * customer whose reply waits on one is handled aside from the batch.
 */
export function mayCallWebhook(
  reply: PendingReply,
  reading: ReplyReading,
  facts: BatchFacts,
  settings: NumberSettings,
  webhooks: ReadonlyMap<string, WebhookTarget>,
): boolean {
  const pair = pairOf(reply);
  if (classifyCompliance(reply.text, settings.compliance, facts.blocked.has(pair)) ?? reading.compliance) return false;
  const conversation = facts.conversations.get(pair);
  if (conversation !== undefined && conversation.assignedTo !== null) return false; // a person answers, no rule
  if (reading.event.review) return false; // a possible opt-out: a person decides
  const answered = answeredBy(reply, conversation, facts);
  // A survey answer calls no webhook, but whether the survey takes it is known only once its run
  // is read: counted as the rules would handle it (aside needlessly at worst, never blocking).
  const match = matchReply(reply.text, {
    expected: answered?.replies ?? undefined,
    synonyms: settings.synonyms,
    rules: settings.rules,
    unmatched: settings.unmatched,
    ...reading.meaning,
  });
  // An unclear reply that no rule takes is read by the number's NLU webhook.
  if (match.kind === 'none' && nluOf(settings, webhooks) !== undefined && !reading.confident) return true;
  return match.actions.some((a) => a.kind === 'webhook');
}
