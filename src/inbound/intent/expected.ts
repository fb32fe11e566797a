/**
 * Expected replies answered by meaning: a message expecting `YES` is answered by "yes please",
 * "Yep 👍" or "sí"; one expecting `1`/`2` by "option 2" or "2️⃣"; one expecting `RESCHEDULE` by
 * "can we do 4pm?". Each key of the message's `replies` is read for the intent it stands for
 * (`intentOfKey`); the reply's intent, when confident enough, picks the key standing for the same.
 */
import { normaliseReply } from './normalise.ts';
import { CANCEL_WORDS, HELP_WORDS, NO_WORDS, THANKS_WORDS, YES_WORDS } from './lexicon.ts';
import type { IntentName } from './classify-intent.ts';

export interface KeyIntent {
  readonly name: IntentName;
  readonly choice?: number;
}

/** The reply's intent as the matcher sees it. */
export interface ReplyMeaning {
  readonly name: string;
  readonly choice?: number;
}

const RESCHEDULE_KEYS = new Set(['reschedule', 'resched', 'change', 'move', 'later', 'rebook', 'postpone', 'newtime', 'r']);

/** What a key means, or undefined for keys that are only words ("ORDER", "A"). */
export function intentOfKey(key: string): KeyIntent | undefined {
  const k = normaliseReply(key).compact;
  if (k === '') return undefined;
  if (/^\d{1,2}$/.test(k)) return { name: 'choice', choice: Number(k) };
  if (YES_WORDS.has(k)) return { name: 'yes' };
  if (NO_WORDS.has(k)) return { name: 'no' };
  if (RESCHEDULE_KEYS.has(k)) return { name: 'reschedule' };
  if (CANCEL_WORDS.has(k)) return { name: 'cancel' };
  if (THANKS_WORDS.has(k)) return { name: 'thanks' };
  if (HELP_WORDS.has(k)) return { name: 'help' };
  return undefined;
}

/** The first key (in the message's order) standing for the reply's intent. */
export function keyForMeaning(keys: readonly string[], meaning: ReplyMeaning): string | undefined {
  return keys.find((key) => {
    const intent = intentOfKey(key);
    if (intent === undefined || intent.name !== meaning.name) return false;
    return intent.name !== 'choice' || intent.choice === meaning.choice;
  });
}
