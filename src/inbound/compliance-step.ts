/**
 * The compliance step, before anything else: STOP, START and HELP (`compliance.ts` says what the
 * reply is; what it means, when read with the number's confidence, counts too). The opt-out is
 * recorded and confirmed once per change of state.
 */
import type { BatchFacts } from './conversations.ts';
import { classifyCompliance } from './compliance.ts';
import type { Decision, ReplyContext } from './reply-context.ts';
import type { ReplyObserver, ReplyStore } from './reply-store.ts';

export async function handleCompliance(
  ctx: ReplyContext,
  facts: BatchFacts,
  store: Pick<ReplyStore, 'setOptOut'>,
  observer: ReplyObserver | undefined,
): Promise<Decision | undefined> {
  const { reply, settings } = ctx;
  // Exact keywords first; then what the reply means: "please stop texting me" opts out and
  // "who is this?" gets the HELP answer, when read with the number's confidence.
  const compliance = classifyCompliance(reply.text, settings.compliance, ctx.optedOut) ?? ctx.reading.compliance;
  if (!compliance) return undefined;
  let changed = true;
  if (compliance.kind !== 'help') {
    changed = await store.setOptOut({
      customer: reply.from,
      scope: settings.compliance.scope === 'global' ? '*' : reply.to,
      optedOut: compliance.kind === 'opt_out',
      keyword: compliance.keyword,
      replyId: reply.id,
    });
    if (compliance.kind === 'opt_out') facts.blocked.add(ctx.pair);
    else facts.blocked.delete(ctx.pair);
  }
  // One confirmation per change of state: a second STOP from an opted-out customer gets none.
  if (changed) ctx.answers.add('c', compliance.reply, true);
  observer?.onCompliance?.(compliance.kind, changed);
  return {
    matched: { kind: 'compliance', keyword: compliance.keyword, action: compliance.kind },
    kind: 'compliance',
    keyword: compliance.keyword,
    rule: null,
    actions: [{ kind: compliance.kind }],
    resolved: true,
    handling: 'compliance',
  };
}
