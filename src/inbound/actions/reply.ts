/**
 * The reply action: text back to the customer. Answers enter the outbound path like any message;
 * their ids derive from the reply (`<suffix>-<reply id>`), so handling a reply twice never texts
 * the customer twice.
 */
import type { PendingReply } from '../../domain/reply.ts';
import type { RuleAction } from '../../domain/rule-action.ts';
import { toStorableText } from '../../domain/storable-text.ts';
import { renderTemplate, type TemplateValues } from '../template.ts';

/** An answer to send: it enters the outbound path like any message. */
export interface Answer {
  readonly id: string;
  readonly to: string;
  readonly from: string;
  readonly text: string;
  readonly replyTo: string;
  /** Compliance confirmations reach a customer who just opted out. */
  readonly bypassOptOut: boolean;
  /** performance.now() when the reply arrived, for the auto-reply latency. */
  readonly arrivedAt: number | undefined;
}

/** The answers one reply gets, in the order its steps give them. */
export class Answers {
  readonly list: Answer[] = [];

  constructor(
    private readonly reply: PendingReply,
    private readonly arrivedAt: number | undefined,
  ) {}

  /** Adds an answer unless its text is blank; `suffix` keeps the ids of one reply's answers apart. */
  add(suffix: string, text: string, bypassOptOut = false): void {
    if (text.trim() === '') return;
    const r = this.reply;
    // A webhook's answer (or a template filled from metadata) may hold NUL or lone surrogates.
    this.list.push({ id: `${suffix}-${r.id}`, to: r.from, from: r.to, text: toStorableText(text).text, replyTo: r.id, bypassOptOut, arrivedAt: this.arrivedAt });
  }
}

/** The `index`-th action of a match, a reply: its template filled and sent. */
export function runReplyAction(action: Extract<RuleAction, { kind: 'reply' }>, index: number, values: TemplateValues, answers: Answers): void {
  answers.add(`a${index}`, renderTemplate(action.text, values));
}
