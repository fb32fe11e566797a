/**
 * What a customer means by a reply, beyond exact keywords: the intent, how sure we are (0..1),
 * and what the reply carries (the menu number, the proposed time). Pure and synchronous: the NLU
 * webhook (`nlu.ts`) is asked by the reply handler when this says `other` or is unsure.
 *
 * Intents, checked in this order (the first that fits wins, so an opt-out is never read as a "no"):
 * - `opt_out` / `opt_out_unclear`: `opt-out.ts`.
 * - `opt_in`: START and its kin, "sign me up", "opt in".
 * - `help`: HELP, INFO, AYUDA, ..., "who is this?".
 * - `choice`: a menu answer: "1", "option 2", "#3", "2️⃣", "5 stars", "two".
 * - `reschedule`: a proposed time with words asking for a change ("can we do 4pm?", "how about
 *   tomorrow at 10"), a bare time ("Thursday 3pm"), or a request without a time ("can we
 *   reschedule?"); `at` is set when a time was read.
 * - `cancel`: cancelling a booking ("cancel my appointment", "I need to cancel").
 * - `yes` / `no`: words, phrases and emoji in several languages, small typos included; a time in a
 *   plain confirmation ("yes, see you at 4") is kept in `at`.
 * - `thanks`.
 * - `other`, confidence 0: nothing recognised.
 *
 * Confidence is a fixed figure per kind of evidence (an exact word beats a phrase beats a typo;
 * a short reply made only of the evidence beats a long one that also says other things). They are
 * an ordering, not probabilities: the threshold in config is compared against them.
 */
import { collapseRepeats, editDistance, normaliseReply, type NormalisedReply } from './normalise.ts';
import { readOptOut } from './opt-out.ts';
import { readTime } from './when.ts';
import {
  BOOKING_WORDS,
  CANCEL_WORDS,
  CHANGE_WORDS,
  COURTESY,
  HELP_PHRASES,
  HELP_WORDS,
  MENU_FILLER,
  NO_EMOJI,
  NO_PHRASES,
  NO_WORDS,
  NUMBER_WORDS,
  OPT_IN_PHRASES,
  RESCHEDULE_PHRASES,
  THANKS_EMOJI,
  THANKS_WORDS,
  UNSURE,
  YES_EMOJI,
  YES_PHRASES,
  YES_WORDS,
} from './lexicon.ts';

export const INTENTS = [
  'opt_out',
  'opt_out_unclear',
  'opt_in',
  'help',
  'choice',
  'reschedule',
  'cancel',
  'yes',
  'no',
  'thanks',
  'other',
] as const;
export type IntentName = (typeof INTENTS)[number];

export interface Intent {
  readonly name: IntentName;
  readonly confidence: number;
  /** What decided it: keyword, phrase, typo, emoji, menu, time, words, nlu, none. */
  readonly via: string;
  /** The keyword or words that decided it. */
  readonly evidence?: string;
  /** The menu number of a `choice`. */
  readonly choice?: number;
  /** The time a `reschedule` (or a confirmation) names. */
  readonly at?: Date;
  /** Whether `at` names a time of day (not only a day). */
  readonly hasTime?: boolean;
}

export interface IntentContext {
  /** The number's opt-out keywords (compliance.opt_out). */
  readonly optOut: readonly string[];
  readonly optIn: readonly string[];
  readonly help: readonly string[];
  /** The clock times are read against, and the customer's time zone (IANA name). */
  readonly now: Date;
  readonly timeZone: string;
}

export const OTHER: Intent = Object.freeze({ name: 'other', confidence: 0, via: 'none' });

export function classifyIntent(text: string, context: IntentContext): Intent {
  const reply = normaliseReply(text);
  const optOut = readOptOut(reply, context.optOut);
  if (optOut !== undefined) {
    return {
      name: optOut.verdict === 'unclear' ? 'opt_out_unclear' : 'opt_out',
      confidence: optOut.confidence,
      via: optOut.verdict,
      evidence: optOut.keyword,
    };
  }
  if (reply.tokens.length === 0) return emojiOnly(reply) ?? OTHER;

  const listed = (list: readonly string[]): string | undefined => compactIndex(list).get(reply.compact);
  const optIn = listed(context.optIn) ?? phraseIn(reply, OPT_IN_PHRASES, true);
  if (optIn !== undefined) return { name: 'opt_in', confidence: 0.95, via: 'keyword', evidence: optIn };
  const help = listed(context.help) ?? wholeWord(reply, HELP_WORDS) ?? phraseIn(reply, HELP_PHRASES, false);
  if (help !== undefined) return { name: 'help', confidence: reply.tokens.length <= 4 ? 0.95 : 0.8, via: 'keyword', evidence: help };

  const menu = readMenu(reply, text);
  if (menu !== undefined) return menu;

  const unsure = phraseIn(reply, UNSURE, false);
  const yes = yesNo(reply, YES_WORDS, YES_PHRASES, YES_EMOJI);
  const no = yesNo(reply, NO_WORDS, NO_PHRASES, NO_EMOJI);

  const cancel = reply.tokens.find((t) => CANCEL_WORDS.has(t));
  if (cancel !== undefined && (reply.tokens.some((t) => BOOKING_WORDS.has(t)) || /\b(?:need|have|want|going|got) to cancel\b/.test(reply.text))) {
    return { name: 'cancel', confidence: 0.85, via: 'phrase', evidence: cancel };
  }

  // chrono is the costliest step: only replies that name a number or a day or time word go to it.
  const time = TIME_HINT.test(reply.text) ? readTime(text.replace(/\p{Extended_Pictographic}/gu, ' '), context.now, context.timeZone) : undefined;
  const asksChange = reply.tokens.some((t) => CHANGE_WORDS.has(t)) || /\?\s*$/u.test(text.trim());
  const reschedule = phraseIn(reply, RESCHEDULE_PHRASES, false);
  // A day named in passing ("my weekend is busy") proposes nothing; a time of day alone does.
  const proposes = time !== undefined && (time.hasTime || asksChange || reschedule !== undefined);
  if (time !== undefined && proposes && (asksChange || reschedule !== undefined || no !== undefined || yes === undefined)) {
    const confidence = asksChange || reschedule !== undefined || no !== undefined ? 0.9 : 0.75;
    return { name: 'reschedule', confidence, via: 'time', evidence: time.text, at: time.at, hasTime: time.hasTime };
  }
  if (reschedule !== undefined) return { name: 'reschedule', confidence: 0.8, via: 'phrase', evidence: reschedule };

  // A question is not an answer: "ok but what time is it?" asks something.
  if (QUESTION.test(reply.text) && /\?\s*$/u.test(text.trim()) && reply.tokens.length > 2) {
    return { name: 'other', confidence: 0.2, via: 'question' };
  }

  if (unsure !== undefined && (yes === undefined || no === undefined)) {
    return { name: 'other', confidence: 0.3, via: 'words', evidence: unsure };
  }
  if (yes !== undefined && no !== undefined) {
    // "no problem" is in YES_PHRASES and "no" in NO_WORDS: a phrase covering the "no" wins.
    const first = yes.position <= no.position ? yes : no;
    const strong = yes.kind === 'phrase' && no.kind !== 'phrase' ? yes : no.kind === 'phrase' && yes.kind !== 'phrase' ? no : undefined;
    const pick = strong ?? first;
    return withTime({ name: pick === yes ? 'yes' : 'no', confidence: strong !== undefined ? 0.8 : 0.4, via: pick.kind, evidence: pick.evidence }, time);
  }
  const answer = yes ?? no;
  if (answer !== undefined) {
    const name = answer === yes ? 'yes' : 'no';
    const rest = reply.tokens.length - answer.covered;
    const confidence =
      answer.kind === 'typo' ? (rest === 0 ? 0.8 : 0.65) : rest === 0 ? 0.97 : answer.position === 0 && rest <= 4 ? 0.9 : rest <= 6 ? 0.75 : 0.55;
    return withTime({ name, confidence, via: answer.kind, evidence: answer.evidence }, time);
  }

  const thanks = reply.tokens.filter((t) => THANKS_WORDS.has(t)).length;
  if (thanks > 0 && reply.tokens.every((t) => THANKS_WORDS.has(t) || COURTESY.has(t))) {
    return { name: 'thanks', confidence: 0.95, via: 'words', evidence: reply.text };
  }
  if (thanks > 0 && reply.tokens.length <= 6) return { name: 'thanks', confidence: 0.7, via: 'words', evidence: reply.text };
  if (unsure !== undefined) return { name: 'other', confidence: 0.3, via: 'words', evidence: unsure };
  return OTHER;
}

/**
 * Words without which no supported language names a time (normalised: no accents): digits, days,
 * parts of the day, relative days. A reply with none of them skips the date parser.
 */
const TIME_HINT = new RegExp(
  String.raw`\d|\b(?:` +
    [
      'today|tonight|tomorrow|tmrw|tmr|tmrrw|yesterday|noon|midnight|morning|afternoon|evening|night|week|weekend|month|next|later|earlier|hour|hours|hr|hrs|minutes?|mins?|o ?clock|am|pm',
      'mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday',
      'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter',
      'manana|hoy|tarde|noche|semana|lunes|martes|miercoles|jueves|viernes|sabado|domingo|mediodia|horas?',
      'demain|aujourdhui|soir|matin|midi|semaine|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|heures?',
      'morgen|heute|abend|mittag|woche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|uhr',
      'amanha|hoje|noite|segunda|terca|quarta|quinta|sexta|semana',
      'vandaag|avond|middag|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag',
    ].join('|') +
    String.raw`)\b`,
);

/** The list indexed by compact normalised form (lists from config are treated as immutable). */
function compactIndex(list: readonly string[]): ReadonlyMap<string, string> {
  let index = compactIndexes.get(list);
  if (index === undefined) {
    const built = new Map<string, string>();
    for (const k of list) {
      const c = normaliseReply(k).compact;
      if (c !== '' && !built.has(c)) built.set(c, k);
    }
    index = built;
    compactIndexes.set(list, index);
  }
  return index;
}
const compactIndexes = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** A question word after the first word: the reply asks rather than answers. */
const QUESTION = /^\S+ (?:.* )?(?:what|when|where|why|how|who|which|is|are|can|do|does|qué|que|donde|cuando|quoi|ou|wann|wo|was)\b/u;

function withTime(intent: Intent, time: ReturnType<typeof readTime>): Intent {
  return time === undefined ? intent : { ...intent, at: time.at, hasTime: time.hasTime };
}

function emojiOnly(reply: NormalisedReply): Intent | undefined {
  const yes = reply.emoji.filter((e) => YES_EMOJI.has(e)).length;
  const no = reply.emoji.filter((e) => NO_EMOJI.has(e)).length;
  const thanks = reply.emoji.filter((e) => THANKS_EMOJI.has(e)).length;
  if (yes > 0 && no === 0) return { name: 'yes', confidence: 0.9, via: 'emoji', evidence: reply.emoji.join('') };
  if (no > 0 && yes === 0) return { name: 'no', confidence: 0.9, via: 'emoji', evidence: reply.emoji.join('') };
  if (thanks > 0 && yes === 0 && no === 0) return { name: 'thanks', confidence: 0.8, via: 'emoji', evidence: reply.emoji.join('') };
  return undefined;
}

/** The reply is exactly one of the words (after courtesy words are set aside). */
function wholeWord(reply: NormalisedReply, words: ReadonlySet<string>): string | undefined {
  const core = reply.tokens.filter((t) => !COURTESY.has(t));
  return core.length === 1 && words.has(core[0]!) ? core[0] : undefined;
}

/** A phrase found in the reply on word boundaries; with `whole`, only when it is all the reply says. */
function phraseIn(reply: NormalisedReply, phrases: readonly string[], whole: boolean): string | undefined {
  const padded = ` ${reply.tokens.filter((t) => !whole || !COURTESY.has(t)).join(' ')} `;
  return phrases.find((p) => (whole ? padded.trim() === p : padded.includes(` ${p} `)));
}

/** "1", "option 2", "#3", "2️⃣", "5 stars", "I'll take 2 please", "two". Numbers 0-99 only. */
function readMenu(reply: NormalisedReply, raw: string): Intent | undefined {
  const rest = reply.tokens.filter((t) => !MENU_FILLER.has(t) && !COURTESY.has(t));
  // "the first one", "second one": the ordinal is the answer.
  if (rest.length === 2 && rest[1] === 'one' && NUMBER_WORDS[rest[0]!] !== undefined) rest.pop();
  if (rest.length === 1 && /^\d{1,2}$/.test(rest[0]!)) {
    const confidence = reply.tokens.length === 1 ? 0.97 : 0.9;
    return { name: 'choice', confidence, via: 'menu', evidence: rest[0]!, choice: Number(rest[0]) };
  }
  // "5/5", "4 out of 5": the first number is the answer.
  if (rest.length === 2 && /^\d$/.test(rest[0]!) && (rest[1] === '5' || rest[1] === '10') && /\d\s*(?:\/|out of)\s*\d/.test(`${raw} ${reply.text}`)) {
    return { name: 'choice', confidence: 0.9, via: 'menu', evidence: rest[0]!, choice: Number(rest[0]) };
  }
  if (reply.tokens.length <= 3 && rest.length === 1 && NUMBER_WORDS[rest[0]!] !== undefined) {
    return { name: 'choice', confidence: 0.85, via: 'menu', evidence: rest[0]!, choice: NUMBER_WORDS[rest[0]!] };
  }
  return undefined;
}

interface Evidence {
  readonly kind: 'words' | 'phrase' | 'typo' | 'emoji';
  readonly evidence: string;
  /** Index of the first token it covers (emoji count as after the words). */
  readonly position: number;
  /** How many tokens it and the courtesy words around it cover. */
  readonly covered: number;
}

const NEGATIONS = new Set(['not', 'dont', 'never', 'isnt', 'aint', 'nicht', 'pas']);

function yesNo(reply: NormalisedReply, words: ReadonlySet<string>, phrases: readonly string[], emoji: ReadonlySet<string>): Evidence | undefined {
  const tokens = reply.tokens;
  const padded = ` ${tokens.join(' ')} `;
  const courtesy = tokens.filter((t) => COURTESY.has(t) && !words.has(t)).length;
  let best: Evidence | undefined;
  const consider = (e: Evidence): void => {
    if (best === undefined || e.position < best.position || (e.position === best.position && e.covered > best.covered)) best = e;
  };
  for (const p of phrases) {
    const at = padded.indexOf(` ${p} `);
    if (at < 0) continue;
    const position = padded.slice(0, at).trim() === '' ? 0 : padded.slice(0, at).trim().split(' ').length;
    const size = p.split(' ').length;
    const rest = tokens.filter((t, i) => (i < position || i >= position + size) && !COURTESY.has(t) && !words.has(t)).length;
    consider({ kind: 'phrase', evidence: p, position, covered: tokens.length - rest });
  }
  const known = tokens.filter((t) => words.has(t)).length;
  tokens.forEach((t, i) => {
    if (NEGATIONS.has(tokens[i - 1] ?? '')) return;
    const hit = words.has(t) ? 'words' : typoOf(t, words) !== undefined ? 'typo' : undefined;
    if (hit === undefined) return;
    // One word deep in a longer message ("the package never arrived") is not the answer.
    if (i > 1 && tokens.length > 4) return;
    const covered = Math.min(tokens.length, known + courtesy + (hit === 'typo' ? 1 : 0));
    consider({ kind: hit, evidence: t, position: i, covered });
  });
  const icon = reply.emoji.find((e) => emoji.has(e));
  if (icon !== undefined) consider({ kind: 'emoji', evidence: icon, position: tokens.length, covered: courtesy + known });
  return best;
}

/** A word one small slip away from a yes/no word: "yse", "yesh", "okat", "nope" -> "noep". */
function typoOf(token: string, words: ReadonlySet<string>): string | undefined {
  if (token.length < 3 || /\d/.test(token)) return undefined;
  // Tokens repeat (the same few words make most replies): each is judged once per word list.
  let cache = typoCache.get(words);
  if (cache === undefined) typoCache.set(words, (cache = new Map<string, string | null>()));
  if (cache.has(token)) return cache.get(token) ?? undefined;
  if (cache.size > 50_000) cache.clear();
  const found = findTypo(token, words);
  cache.set(token, found ?? null);
  return found;
}
const typoCache = new WeakMap<ReadonlySet<string>, Map<string, string | null>>();

function findTypo(token: string, words: ReadonlySet<string>): string | undefined {
  const collapsed = collapseRepeats(token);
  for (const w of words) {
    if (w.length < 3) {
      if (collapsed === w) return w;
      continue;
    }
    if (collapsed === collapseRepeats(w)) return w;
    if (w.length >= 4 && token.length >= 4 && editDistance(token, w, 1) <= 1) return w;
    if (w.length === 3 && token.length === 3 && isSwap(token, w)) return w;
  }
  return undefined;
}

function isSwap(a: string, b: string): boolean {
  for (let i = 0; i + 1 < a.length; i++) {
    if (a[i] !== b[i]) return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return false;
}
