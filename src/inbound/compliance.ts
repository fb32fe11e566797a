/**
 * STOP, START and HELP: the keywords every number honours before any rule sees a reply
 * (ARCHITECTURE.md "Conversations"; issue 5, "Compliance"). A reply is a compliance keyword when it
 * is, as a whole, one of the configured words (`keyword.ts` says what "is" means: case, width,
 * spacing and surrounding punctuation do not count; other words do, so "stop please" is not STOP).
 *
 * Pure: the caller knows whether the customer is opted out (per number or globally, by `scope`),
 * records the change, and sends the confirmation; this module only says what the reply is.
 */
import { indexKeywords, normaliseKeyword } from './keyword.ts';

export type ComplianceKind = 'opt_out' | 'opt_in' | 'help';

export interface ComplianceSettings {
  readonly optOut: readonly string[];
  readonly optIn: readonly string[];
  readonly help: readonly string[];
  /**
   * Opt-in keywords only while the customer is opted out; otherwise they go on to the rules like
   * any reply, so a campaign's "Reply YES to confirm" keeps working. `['YES']` when absent.
   */
  readonly optInWhenOptedOut?: readonly string[];
  /** Confirmations texted back. Each is sent as is; an empty text means the caller sends none. */
  readonly optOutReply: string;
  readonly optInReply: string;
  readonly helpReply: string;
  /** Whether an opt-out covers only the number it was sent to, or every number of ours. */
  readonly scope: 'number' | 'global';
}

export interface ComplianceMatch {
  readonly kind: ComplianceKind;
  /** The list entry that matched, spelled as configured ("STOP ALL" for "stop  all!"). */
  readonly keyword: string;
  /** The confirmation to text back, from the settings. */
  readonly reply: string;
}

/** Keywords opted-out customers send to come back when they were told "Reply YES". */
const YES_ONLY: readonly string[] = Object.freeze(['YES']);

/**
 * The union of what major carriers and messaging APIs honour. ARRÊT is listed next to ARRET
 * (Canadian French) because accents are not folded and phones add them. Every confirmation is
 * plain GSM-7 and fits one message.
 */
export const DEFAULT_COMPLIANCE: ComplianceSettings = Object.freeze({
  optOut: Object.freeze([
    'STOP',
    'STOPALL',
    'STOP ALL',
    'UNSUBSCRIBE',
    'UNSUB',
    'CANCEL',
    'END',
    'QUIT',
    'OPTOUT',
    'OPT-OUT',
    'REVOKE',
    'REMOVE',
    'OPT OUT',
    // Spanish, French, German, Portuguese: what customers of US, Canadian and European numbers
    // send in their own language (ARRÊT is listed next to ARRET because exact keywords keep
    // accents; the intent reading in `intent/opt-out.ts` folds them).
    'ARRET',
    'ARRÊT',
    'ARRETER',
    'ARRÊTER',
    'DESABONNER',
    'DÉSABONNER',
    'BAJA',
    'ALTO',
    'PARAR',
    'DETENER',
    'CANCELAR',
    'DESUSCRIBIR',
    'STOPP',
    'ABMELDEN',
    'SAIR',
  ]),
  optIn: Object.freeze(['START', 'UNSTOP', 'RESUME']),
  optInWhenOptedOut: YES_ONLY,
  help: Object.freeze(['HELP', 'INFO', 'AYUDA', 'AIDE', 'HILFE', 'AJUDA']),
  optOutReply: 'You are unsubscribed and will receive no more messages. Reply START to resubscribe.',
  optInReply: 'You are subscribed again. Reply STOP to unsubscribe.',
  helpReply: 'Reply STOP to unsubscribe, START to resubscribe.',
  scope: 'number',
});

/**
 * What a reply is for compliance, or undefined when it is not a compliance keyword (the rules come
 * next). Precedence when a word is in several lists: opt-out, then opt-in, then help; so a customer
 * who is asked to confirm and answers STOP is always opted out.
 */
export function classifyCompliance(
  text: string,
  settings: ComplianceSettings,
  customerOptedOut: boolean,
): ComplianceMatch | undefined {
  const key = normaliseKeyword(text);
  if (key === '') return undefined;

  const optOut = indexKeywords(settings.optOut).get(key);
  if (optOut !== undefined) return { kind: 'opt_out', keyword: optOut, reply: settings.optOutReply };

  const optIn =
    indexKeywords(settings.optIn).get(key) ??
    (customerOptedOut ? indexKeywords(settings.optInWhenOptedOut ?? YES_ONLY).get(key) : undefined);
  if (optIn !== undefined) return { kind: 'opt_in', keyword: optIn, reply: settings.optInReply };

  const help = indexKeywords(settings.help).get(key);
  if (help !== undefined) return { kind: 'help', keyword: help, reply: settings.helpReply };

  return undefined;
}
