/**
 * How a customer's reply is read before its intent is judged: the same text whatever the phone,
 * the keyboard or the customer's habits did to it. Keywords (`keyword.ts`) are stricter on purpose
 * (an exact whole-message match); this is the looser reading that intents need.
 *
 * `normaliseReply`, in order:
 * 1. Emoji are taken out and kept apart (`emoji`): 👍 is an answer, not noise, but it is not a word.
 *    Keycap digits ("2️⃣") become their digit, so a menu answered with a keycap reads as "2".
 * 2. NFKC (full-width letters and digits become plain ones), invisible format characters removed.
 * 3. Lower case, then accents removed (NFD and every combining mark dropped): "ARRÊT", "arrêt" and
 *    "arret" are one word, as are "sí" and "si", "não" and "nao".
 * 4. Apostrophes are dropped ("don't" -> "dont", "I'm" -> "im"); every other punctuation mark or
 *    symbol becomes a space, except ":" between digits, kept for times ("4:30").
 * 5. A letter written three times or more in a row counts once ("yesss" -> "yes", "STOPPP" ->
 *    "stop", "nooooo" -> "no"); doubled letters stay, English has many ("good", "cool").
 * 6. Whitespace runs become one space; `tokens` are the words.
 *
 * `compact` is the tokens joined without spaces, so "S T O P", "S.T.O.P.", "opt out" and
 * "OPT-OUT" all compact to what "stop" and "optout" do.
 */

export interface NormalisedReply {
  /** The words, space-separated. */
  readonly text: string;
  readonly tokens: readonly string[];
  /** The tokens joined with nothing in between. */
  readonly compact: string;
  /** Pictographs in order, without variation selectors or skin tones ("👍🏽" -> "👍"). */
  readonly emoji: readonly string[];
}

const KEYCAP = /([0-9#*])\uFE0F?\u20E3/gu;
const EMOJI = /\p{Extended_Pictographic}/gu;
/** What rides along with a pictograph: variation selectors, skin tones, joiners, tags. */
// eslint-disable-next-line no-misleading-character-class -- each joiner and modifier is matched on its own, on purpose
const EMOJI_PARTS = /[\uFE0E\uFE0F\u200D\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/gu;
/** Regional indicator letters (flags): not words, not answers. */
const FLAGS = /[\u{1F1E6}-\u{1F1FF}]/gu;
const FORMAT_CHARS = /\p{Cf}/gu;
const MARKS = /\p{M}/gu;
const APOSTROPHES = /['\u2018\u2019\u201A\u201B\u2032\u02BC`´]/gu;
const TIME_COLON = /(\d):(?=\d)/gu;
const NOT_WORD = /[^\p{L}\p{N}\u0001]+/gu;
const TRIPLED = /(\p{L})\1{2,}/gu;

export function normaliseReply(raw: string): NormalisedReply {
  const withDigits = raw.replace(KEYCAP, ' $1 ');
  const emoji = [...withDigits.matchAll(EMOJI)].map((m) => m[0]);
  const text = withDigits
    .replace(EMOJI, ' ')
    .replace(EMOJI_PARTS, '')
    .replace(FLAGS, ' ')
    .normalize('NFKC')
    .replace(FORMAT_CHARS, '')
    .toLowerCase()
    .normalize('NFD')
    .replace(MARKS, '')
    .normalize('NFC')
    .replace(APOSTROPHES, '')
    // \u0001 stands for a colon between digits while the other punctuation goes.
    .replace(TIME_COLON, '$1\u0001')
    .replace(NOT_WORD, ' ')
    .replace(/\u0001/gu, ':')
    .replace(TRIPLED, '$1')
    .trim();
  const tokens = text === '' ? [] : text.split(' ');
  return { text, tokens, compact: tokens.join(''), emoji };
}

/** A word with every run of one letter counted once ("yess" -> "yes", "okk" -> "ok"). */
export function collapseRepeats(word: string): string {
  return word.replace(/(\p{L})\1+/gu, '$1');
}

/**
 * One insertion, deletion, substitution or swap of neighbours turns `a` into `b` (a != b): the
 * common case of typo matching, in one pass and without allocating.
 */
function withinOneEdit(a: string, b: string): boolean {
  if (a.length < b.length) [a, b] = [b, a];
  let i = 0;
  while (i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return i + 1 < a.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return a.length === b.length + 1 && a.slice(i + 1) === b.slice(i); // a has one more letter
}

/**
 * Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one stretch):
 * insertions, deletions, substitutions and swaps of two neighbours each cost 1. Stops early and
 * returns `max + 1` once the distance is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (max <= 1) return a === b ? 0 : withinOneEdit(a, b) ? 1 : 2;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
  }
  return rows[a.length]![b.length]!;
}
