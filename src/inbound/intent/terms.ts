/**
 * The common terms of replies nothing matched, for `parley report`: each reply normalised like an
 * intent reading (case, accents, punctuation, repeated letters), split into words, stop words and
 * numbers left out, each word counted once per reply.
 */
import { normaliseReply } from './normalise.ts';

/** Function words of the languages the intent lexicon reads; they say nothing about a topic. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does dont for from had has have he her hi hello hey his how i im is it its ' +
    'me my no not of ok on or our please so that the their them then there they this to u up us was we were what when where which ' +
    'who why will with would yes you your ur ill id ive thanks thank ' +
    'el la los las un una y o de del en que es por para con no si se lo le mi me su al ' +
    'le la les un une et ou de des du en que est pour pas je tu il vous nous ce ca ' +
    'der die das ein eine und oder ist nicht ich du sie wir es zu mit auf fur von ' +
    'o a os as um uma e ou de do da em que nao eu voce'
  ).split(' '),
);

export interface TermCount {
  readonly term: string;
  readonly replies: number;
}

export function commonTerms(texts: readonly string[], top: number): TermCount[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    const words = new Set(normaliseReply(text).tokens.filter((t) => t.length >= 3 && !STOP_WORDS.has(t) && !/^\d+$/.test(t)));
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([term, replies]) => ({ term, replies }));
}
