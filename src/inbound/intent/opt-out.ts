/**
 * Opt-out by any reasonable means (FCC 2024 TCPA order, 47 CFR 64.1200(a)(10)): a customer
 * revokes consent by replying with any of the words the order names ("stop", "quit", "end",
 * "revoke", "opt out", "cancel", "unsubscribe") or anything else a reasonable person would read as
 * a revocation ("please stop texting me", "unsubscribe me", "don't text me again"). Where it is
 * not clear ("stop it, that's annoying", "🛑"), the reply is flagged for review and handed to the
 * apps; it is never silently ignored and never silently treated as an opt-out either.
 *
 * Three verdicts, by how sure the reading is:
 * - `keyword` (1.0): the reply is one of the number's opt-out keywords in any case, accents,
 *   punctuation, spacing or letter repetition ("Stop.", "S T O P", "opt-out", "STOPPP", "arrêt"),
 *   alone or with courtesy words and emoji around it ("stop please", "STOP NOW 😡", "stop stop").
 * - `phrase` (0.95): a sentence asking to stop the messages, in English, Spanish, French, German or
 *   Portuguese; and any reply naming "unsubscribe", "opt out", "revoke" or "stop all".
 * - `typo` (0.85): a one-word reply one edit away from a keyword of four letters or more ("stpo",
 *   "unsubscibe", "qiut"), unless it is itself a common word ("shop", "step", "quite").
 * - `unclear` (0.5): a stop word in a reply that is none of the above. "End", "quit", "cancel",
 *   "remove" and the Spanish "alto"/"baja" (everyday words too) count only in short replies;
 *   "stop by" / "stop in" (a visit) and cancelling a booking ("cancel my appointment") do not count.
 */
import { collapseRepeats, editDistance, normaliseReply, type NormalisedReply } from './normalise.ts';
import { BOOKING_WORDS, CANCEL_WORDS, COURTESY, STOP_EMOJI } from './lexicon.ts';

export type OptOutVerdict = 'keyword' | 'phrase' | 'typo' | 'unclear';

export interface OptOutReading {
  readonly verdict: OptOutVerdict;
  readonly confidence: number;
  /** The keyword as configured, or the words that decided it. */
  readonly keyword: string;
}

export const OPT_OUT_CONFIDENCE: Readonly<Record<OptOutVerdict, number>> = { keyword: 1, phrase: 0.95, typo: 0.85, unclear: 0.5 };

/** The keyword list indexed by compact normalised form. */
function indexOf(keywords: readonly string[]): ReadonlyMap<string, string> {
  let index = indexes.get(keywords);
  if (index === undefined) {
    const built = new Map<string, string>();
    for (const k of keywords) {
      const key = normaliseReply(k).compact;
      if (key !== '' && !built.has(key)) built.set(key, k);
    }
    index = built;
    indexes.set(keywords, index);
  }
  return index;
}
const indexes = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** Sentences that ask for the messages to stop. Matched on the normalised text, word-bounded. */
const FILL = String.raw`(?:\s(?:the|these|those|this|that|all|your|ur|my|me|with|them|any|more|sending|please|pls|plz|ever|fucking|damn|bloody|stupid|annoying|spam|spammy))*`;
const MEDIUM = String.raw`(?:text|texts|texting|textin|texing|txt|txts|txting|msg|msgs|msging|msgn|message|messages|messaging|messagin|sms|smss|contact|contacting|send|sending|spam|spamming|email|emails|emailing|bother|bothering|harass|harassing|notification|notifications|alert|alerts|reminder|reminders|promo|promos|promotions|offers|ads|marketing)`;
const PHRASES: readonly RegExp[] = [
  // stop / quit / cease / end texting me; stop the messages
  new RegExp(String.raw`\b(?:stop|stopp|quit|cease|end|halt|discontinue)${FILL}\s${MEDIUM}\b`),
  // don't text me (again); never contact me; do not message this number
  new RegExp(String.raw`\b(?:dont|do not|never|pls dont|please dont|stop)\s(?:ever\s)?${MEDIUM}\s(?:me|us|this number|my number|this phone|again|anymore|any more|here)\b`),
  // no more texts
  new RegExp(String.raw`\bno (?:more|further)\s${MEDIUM}\b`),
  // unsubscribe me, remove me (from your list), take me off, opt me out, delete my number
  /\b(?:remove|delete|take|drop|erase|opt)\s(?:me|my number|my phone|this number|my (?:contact|info|details))\b(?:\s(?:off|out|from))?/,
  /\b(?:remove|delete|take)\b.*\b(?:off|from)\s(?:your|the|this|ur|my)?\s?(?:list|lists|mailing list|database|system|contacts)\b/,
  // I don't want these / I no longer wish to receive
  /\b(?:i|we)?\s?(?:dont|do not|no longer|never)\s(?:want|wish|need|like)\s(?:to\s)?(?:receive|recieve|get|getting|receiving|these|this|any|your|more|ur)\b/,
  /\bhow (?:do|can) i (?:stop|unsubscribe|opt out|get off)\b/,
  /\bleave me alone\b/,
  // Spanish
  /\bno (?:me )?(?:envien|envies|enviar|manden|mandes|mandar|escriban|escribas|contacten|contactes|molesten|vuelvan)\b/,
  /\bdej(?:en|a|ar|e)\s(?:de\s)?(?:enviar|mandar|escribir|molestar|contactar)/,
  /\b(?:dar|darme|darse|dame|denme) de baja\b/,
  /\bya no (?:quiero|deseo)\b/,
  /\bno (?:quiero|deseo) (?:recibir|mas|mensajes)\b/,
  /\bcancelar (?:la |mi )?(?:suscripcion|subscripcion)\b/,
  // French
  /\b(?:menvoyez|menvoie|menvoyer|mecrivez|mecrire|me contactez|me contacter|envoyez)\s(?:plus|pas)\b/,
  /\bne (?:plus|pas) (?:menvoyer|recevoir|me contacter)\b/,
  /\b(?:desabonn|desinscri|desinscrire|desabonnement|arretez|arreter)\w*\b/,
  /\bje ne (?:veux|souhaite) plus\b/,
  // German
  /\bkeine (?:sms|nachrichten|mitteilungen|werbung|textnachrichten)(?: mehr)?\b/,
  /\b(?:abmelden|abbestellen|austragen|abmeldung)\b/,
  /\bhor(?:en sie|t)? auf\b/,
  // Portuguese
  /\bnao (?:quero|me envie|me mande|me enviem|me mandem|desejo)\b.*\b(?:mensagens|mensagem|sms|mais|receber)\b/,
  /\bparem? de (?:enviar|mandar)\b/,
  /\b(?:descadastr|desinscrev)\w*\b/,
];

/** Words that need no context: a reply naming them asks to be unsubscribed. */
const SURE_WORDS = ['unsubscribe', 'unsub', 'optout', 'revoke', 'stopall', 'desuscribir', 'desuscribirme', 'desabonner'];

/** Stop words that flag a reply wherever they are. */
const STRONG = new Set(['stop', 'stopp', 'stopping', 'arret', 'arrete', 'halt', 'detener', 'parar', 'pare']);
/** Stop words that are also everyday words: they flag only short replies. */
const WEAK = new Set(['end', 'quit', 'cancel', 'remove', 'alto', 'baja', 'fin', 'sair', 'cancelar', 'enough', 'basta', 'unfollow']);
const SHORT = 4;

/** Words a one-edit typo of a keyword must not be (they are words of their own). */
const REAL_WORDS = new Set([
  'shop', 'step', 'atop', 'stow', 'slop', 'stoop', 'sto', 'top', 'quite', 'quiet', 'suit', 'quiz', 'quilt', 'quid', 'cancer',
  'camel', 'remote', 'remover', 'removed', 'revoked', 'evoke', 'invoke', 'end', 'and', 'send', 'lend', 'bend', 'tend', 'ends',
  'ended', 'stops', 'stoped', 'spot', 'soon', 'stay', 'stuff', 'stoked', 'alta', 'bajo', 'auto', 'alot', 'also', 'halo',
  'unsure', 'unlock', 'cancels', 'subscribe', 'subscribed', 'resubscribe',
]);

/** Verb + word that is a visit, not a revocation: "I'll stop by at 4". */
const VISIT = /\bstop (?:by|in|over|at|off|round|for)\b/;

export function readOptOut(reply: NormalisedReply, keywords: readonly string[]): OptOutReading | undefined {
  const index = indexOf(keywords);
  const tokens = reply.tokens;
  if (tokens.length === 0) {
    const stopEmoji = reply.emoji.find((e) => STOP_EMOJI.has(e));
    return stopEmoji ? unclear(stopEmoji) : undefined;
  }

  // The whole reply, or the reply without courtesy words, is a keyword (possibly repeated).
  const exact = index.get(reply.compact);
  if (exact !== undefined) return reading('keyword', exact);
  const core = tokens.filter((t) => !COURTESY.has(t));
  if (core.length > 0 && core.length <= 3) {
    const joined = index.get(core.join(''));
    if (joined !== undefined) return reading('keyword', joined);
    const each = core.map((t) => index.get(t));
    if (each[0] !== undefined && each.every((k) => k === each[0])) return reading('keyword', each[0]);
  }

  const text = reply.text;
  for (const phrase of PHRASES) {
    const m = phrase.exec(text);
    if (m !== null && !(VISIT.test(text) && m[0].startsWith('stop'))) return reading('phrase', m[0]);
  }
  const sure = tokens.find((t) => SURE_WORDS.includes(t)) ?? (/\bopt out\b|\bstop all\b/.exec(text)?.[0]);
  if (sure !== undefined) return reading('phrase', sure);

  if (core.length === 1) {
    const typo = typoOf(core[0]!, index);
    if (typo !== undefined) return reading('typo', typo);
  }

  if (VISIT.test(text)) return undefined;
  // A booking named, or an obligation ("I need to cancel"): it is the appointment being cancelled.
  const booking = tokens.some((t) => BOOKING_WORDS.has(t)) || /\b(?:need|have|got|going) to cancel\b/.test(text);
  for (const t of tokens) {
    if (CANCEL_WORDS.has(t) && booking) continue;
    if (STRONG.has(t)) return unclear(t);
    if (WEAK.has(t) && tokens.length <= SHORT) return unclear(t);
  }
  const stopEmoji = reply.emoji.find((e) => STOP_EMOJI.has(e));
  if (stopEmoji !== undefined && tokens.length <= SHORT) return unclear(stopEmoji);
  return undefined;
}

/** The keyword a one-word reply is a slip of, judged once per word and list (replies repeat). */
function typoOf(word: string, index: ReadonlyMap<string, string>): string | undefined {
  if (REAL_WORDS.has(word) || word.length < 4) return undefined;
  let cache = typoCache.get(index);
  if (cache === undefined) typoCache.set(index, (cache = new Map<string, string | null>()));
  const known = cache.get(word);
  if (known !== undefined) return known ?? undefined;
  if (cache.size > 50_000) cache.clear();
  let found: string | undefined;
  const collapsed = collapseRepeats(word);
  for (const [key, keyword] of index) {
    if (key.length < 4) continue;
    const allowed = key.length >= 8 ? 2 : 1;
    if (editDistance(word, key, allowed) <= allowed || collapsed === collapseRepeats(key)) {
      found = keyword;
      break;
    }
  }
  cache.set(word, found ?? null);
  return found;
}
const typoCache = new WeakMap<ReadonlyMap<string, string>, Map<string, string | null>>();

function reading(verdict: OptOutVerdict, keyword: string): OptOutReading {
  return { verdict, confidence: OPT_OUT_CONFIDENCE[verdict], keyword };
}

function unclear(word: string): OptOutReading {
  return reading('unclear', word);
}
