/**
 * What a reply sets off: the actions of a keyword rule (config `rules[].actions`), of the answered
 * message's expected replies and of a number's unmatched policy, one type for all. They run in
 * order, each by its own step under `inbound/actions/`; texts are templates rendered then.
 */
export type RuleAction =
  /** Text back to the customer; `text` is a template (`template.ts`). */
  | { readonly kind: 'reply'; readonly text: string }
  /** Conversation tags to set; values are templates. */
  | { readonly kind: 'set_tags'; readonly tags: Readonly<Record<string, string>> }
  | { readonly kind: 'set_state'; readonly state: string }
  /** Hand the reply to a configured webhook; `fallback` (a template) is texted back on timeout or error. */
  | { readonly kind: 'webhook'; readonly webhook: string; readonly fallback?: string }
  | { readonly kind: 'hand_to_apps' };
