/**
 * A reply's intent as the reply handler uses it: read once (`classify-intent.ts`, against the
 * time the reply was received and the number's time zone), compared with the number's threshold,
 * possibly replaced by the NLU webhook's reading, and turned into what is stored, published and
 * acted on:
 * - an opt-out read with enough confidence is a compliance opt-out (one confirmation, as for STOP);
 *   a HELP-like question ("who is this?") gets the HELP answer;
 * - a possible opt-out (`opt_out_unclear`, or an opt-out below the threshold) is flagged for
 *   review and handed to the apps, never answered and never ignored;
 * - the NLU webhook is asked only about replies the built-in reading left unsure; an opt-out it
 *   reports is flagged for review like an unclear one;
 * - a confident yes/no/choice/reschedule/... answers the expected reply standing for it;
 * - a reply read as something but below the threshold is escalated to the apps instead of being
 *   answered; one read as nothing in particular (`other`: a question, "maybe", free text) follows
 *   the number's `unmatched` policy as before.
 */
import type { InboundIntent } from '../../domain/events.ts';
import type { IntentsConfig } from '../../config/types.ts';
import type { ComplianceMatch, ComplianceSettings } from '../compliance.ts';
import { classifyIntent, INTENTS, type Intent } from './classify-intent.ts';
import type { ReplyMeaning } from './expected.ts';
import type { NluIntent } from './nlu.ts';

export interface ReplyReading {
  /** The built-in reading (kept when the NLU's replaces the rest). */
  readonly intent: Intent;
  /** What the message.inbound event says. */
  readonly event: InboundIntent;
  /** What the replies row keeps (migration 0013). */
  readonly stored: { readonly name: string; readonly confidence: number; readonly detail: Record<string, unknown> };
  /** The compliance action the meaning calls for, when confident: an opt-out or a HELP answer. */
  readonly compliance: ComplianceMatch | undefined;
  /** For `matchReply`: the intent, only when confident enough to answer an expected reply. */
  readonly meaning: { readonly intent?: ReplyMeaning };
  readonly confident: boolean;
  /** Read as something, but below the threshold: the apps answer. */
  readonly escalate: boolean;
  withNlu(intent: NluIntent): ReplyReading;
  escalated(): ReplyReading;
}

interface Read {
  readonly name: string;
  readonly confidence: number;
  readonly via: string;
  readonly evidence?: string;
  readonly choice?: number;
  readonly at?: Date;
}

export function readReply(text: string, receivedAt: Date, compliance: ComplianceSettings, intents: IntentsConfig): ReplyReading {
  const intent: Intent = classifyIntent(text, {
    optOut: compliance.optOut,
    optIn: compliance.optIn,
    help: compliance.help,
    now: receivedAt,
    timeZone: intents.timeZone,
  });
  return build(intent, intent, compliance, intents.threshold, false);
}

function build(builtIn: Intent, read: Read, compliance: ComplianceSettings, threshold: number, escalated: boolean): ReplyReading {
  const confident = read.confidence >= threshold && read.name !== 'other';
  // An opt-out the NLU saw (after the built-in reading found none) is flagged for a person: it is
  // never ignored, but a remote guess does not change the customer's consent on its own.
  const fromNlu = read.via === 'nlu';
  const review = read.name === 'opt_out_unclear' || (read.name === 'opt_out' && (!confident || fromNlu));
  const event: InboundIntent = {
    name: read.name,
    confidence: Math.round(read.confidence * 1000) / 1000,
    via: read.via,
    choice: read.choice ?? null,
    at: read.at?.toISOString() ?? null,
    review,
    escalated,
  };
  const detail: Record<string, unknown> = { via: read.via, review, escalated };
  if (read.evidence !== undefined) detail.evidence = read.evidence;
  if (read.choice !== undefined) detail.choice = read.choice;
  if (read.at !== undefined) detail.at = read.at.toISOString();
  const keyword = read.evidence ?? read.name;
  return {
    intent: builtIn,
    event,
    stored: { name: read.name, confidence: event.confidence, detail },
    compliance:
      fromNlu
        ? undefined
        : confident && read.name === 'opt_out'
        ? { kind: 'opt_out', keyword, reply: compliance.optOutReply }
        : confident && read.name === 'help'
          ? { kind: 'help', keyword, reply: compliance.helpReply }
          : undefined,
    meaning: confident ? { intent: read.choice === undefined ? { name: read.name } : { name: read.name, choice: read.choice } } : {},
    confident,
    escalate: !confident && !review && read.name !== 'other',
    withNlu: (nlu) => build(builtIn, { ...nlu, via: 'nlu' }, compliance, threshold, escalated),
    escalated: () => build(builtIn, read, compliance, threshold, true),
  };
}

/** Metric label for an intent: the built-in names, `custom` for the NLU's own (bounded cardinality). */
export function intentMetricName(name: string): string {
  return (INTENTS as readonly string[]).includes(name) ? name : 'custom';
}
