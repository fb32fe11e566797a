/** The set_tags and set_state actions: what a rule notes on the conversation, for later rules, templates and the inbox. */
import type { RuleAction } from '../../domain/rule-action.ts';
import type { ReplyStore } from '../reply-store.ts';
import { renderTemplate, type TemplateValues } from '../template.ts';

type ConversationStore = Pick<ReplyStore, 'updateConversation'>;

/** Sets the conversation's tags; values are templates. */
export async function runSetTags(action: Extract<RuleAction, { kind: 'set_tags' }>, conversationId: string, values: TemplateValues, store: ConversationStore): Promise<void> {
  const tags = Object.fromEntries(Object.entries(action.tags).map(([k, v]) => [k, renderTemplate(v, values)]));
  await store.updateConversation(conversationId, { tags });
}

export async function runSetState(action: Extract<RuleAction, { kind: 'set_state' }>, conversationId: string, store: ConversationStore): Promise<void> {
  await store.updateConversation(conversationId, { state: action.state });
}
