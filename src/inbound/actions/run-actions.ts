/** The actions step: a match's actions run in order, each kind by its own file in this folder. */
import type { RuleMatch } from '../rules.ts';
import { inboundEvent, type ReplyContext } from '../reply-context.ts';
import type { ReplyStore } from '../reply-store.ts';
import type { TemplateValues } from '../template.ts';
import { runSetState, runSetTags } from './conversation.ts';
import { runReplyAction } from './reply.ts';
import { runWebhookAction, type WebhookActionDeps } from './webhook.ts';

export interface ActionDeps extends WebhookActionDeps {
  readonly store: Pick<ReplyStore, 'updateConversation'>;
}

/** Runs the actions; says whether one handed the reply to the apps, and the kinds run (for the event). */
export async function runActions(
  ctx: ReplyContext,
  match: RuleMatch,
  values: TemplateValues,
  deps: ActionDeps,
): Promise<{ handedToApps: boolean; actionNames: string[] }> {
  let handedToApps = false;
  const actionNames: string[] = [];
  for (const [i, action] of match.actions.entries()) {
    actionNames.push(action.kind);
    switch (action.kind) {
      case 'reply':
        runReplyAction(action, i, values, ctx.answers);
        break;
      case 'set_tags':
        await runSetTags(action, ctx.conversation.id, values, deps.store);
        break;
      case 'set_state':
        await runSetState(action, ctx.conversation.id, deps.store);
        break;
      case 'hand_to_apps':
        handedToApps = true;
        break;
      case 'webhook': {
        const keyword = match.kind === 'expected_reply' ? match.keyword : match.kind === 'keyword' ? (match.keyword ?? match.rule) : null;
        const ask = inboundEvent(ctx, { kind: match.kind, keyword, action: 'webhook' });
        await runWebhookAction(action, i, ctx.reply.id, ask, values, ctx.answers, deps);
        break;
      }
    }
  }
  return { handedToApps, actionNames };
}
