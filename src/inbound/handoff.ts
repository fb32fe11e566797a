/**
 * The hand-off steps, after compliance: replies a person answers rather than automation. No rule,
 * expected reply, survey or webhook runs; the reply goes to the apps (and the agent inbox).
 */
import type { Decision, ReplyContext } from './reply-context.ts';

/**
 * A person has the conversation (the API's assign) until it is handed back; a possible opt-out is
 * flagged for their review all the same.
 */
export function handleAssigned(ctx: ReplyContext): Decision | undefined {
  const assignedTo = ctx.conversation.assignedTo;
  if (assignedTo === null) return undefined;
  const review = ctx.reading.event.review;
  return {
    matched: { kind: 'none', keyword: null, action: 'hand_to_apps' },
    kind: 'none',
    keyword: null,
    rule: null,
    actions: [{ kind: 'hand_to_apps', assigned_to: assignedTo, ...(review ? { review: true } : {}) }],
    resolved: false,
    handling: review ? 'review' : 'apps',
  };
}

/** Maybe an opt-out: a person decides. Nothing is answered, no rule runs, the apps get it. */
export function handleReview(ctx: ReplyContext): Decision | undefined {
  if (!ctx.reading.event.review) return undefined;
  return {
    matched: { kind: 'none', keyword: null, action: 'hand_to_apps' },
    kind: 'none',
    keyword: null,
    rule: null,
    actions: [{ kind: 'hand_to_apps', review: true }],
    resolved: false,
    handling: 'review',
  };
}
