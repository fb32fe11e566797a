/**
 * When is a customer's reply a keyword? When its normalised form is exactly one of the list's
 * normalised entries: "stop!" and "ＳＴＯＰ" are STOP, "STOP please" is not (ARCHITECTURE.md
 * "Conversations"; issue 5, "Compliance"). Compliance keywords, expected replies and keyword rules
 * all match this way, so one word means the same thing everywhere.
 *
 * `normaliseKeyword`, in order:
 * 1. NFKC: full-width and other compatibility forms become their plain letters ("ＳＴＯＰ" -> "STOP",
 *    "ﬁ" -> "fi", the ideographic space -> a space).
 * 2. Invisible format characters (Unicode category Cf: zero-width space and joiners, byte-order mark,
 *    bidi marks, soft hyphen) are removed: handsets and copy-paste leave them where nobody sees them.
 * 3. Case: `String.prototype.toUpperCase`, which applies Unicode's default, locale-independent case
 *    mapping (unlike `toLocaleUpperCase`, it gives the same answer whatever the process locale: the
 *    Turkish "i" becomes "I", not "İ"). Upper rather than lower case because keywords are written in
 *    capitals and because it folds "ß" to "SS" and the long "ſ" to "S". NFKC runs again afterwards,
 *    so the result is normalised and `normaliseKeyword` is idempotent.
 * 4. Typography that phones add on their own: every dash (Unicode Pd: en dash, em dash, ...) becomes
 *    "-" ("OPT–OUT" is OPT-OUT) and the curly apostrophes become "'" ("DON’T" is DON'T).
 * 5. Whitespace (and control characters) runs become one space: "STOP  ALL" and "STOP\nALL" are
 *    STOP ALL.
 * 6. Punctuation (Unicode P: . ! ? , ; : … " ' ) ¡ ¿ « » and the rest) and whitespace are stripped
 *    from both ends, repeatedly: "STOP!!!", "Stop .", "\"STOP\"", "¡ALTO!" and "*STOP*" are
 *    keywords. Leading punctuation goes too because customers quote the word they were told to send
 *    ('Reply "STOP" to unsubscribe') and Spanish opens with ¡/¿; nobody means anything else by
 *    '"STOP"'. Symbols are not punctuation: emoji, "+", "$", "=" stay, so "STOP 👍" is not STOP
 *    (a keyword is the whole message, and an emoji is part of a message).
 *
 * Not done: accents are kept ("ARRÊT" is not "ARRET"; lists name both spellings where both are
 * used), and no spelling correction or word splitting ("STOPP", "S T O P" are not STOP).
 *
 * An entry that normalises to the empty string (say "?!") never matches anything; nor does a reply
 * that is empty after normalisation.
 */

const FORMAT_CHARS = /\p{Cf}/gu;
const DASHES = /\p{Pd}/gu;
const APOSTROPHES = /[\u2018\u2019\u201A\u201B\u2032\u02BC]/gu;
const SPACES = /[\s\p{Cc}]+/gu;
/** One code point that step 6 strips from the ends. */
const EDGE = /^[\s\p{P}]$/u;

export function normaliseKeyword(text: string): string {
  const spaced = text
    .normalize('NFKC')
    .replace(FORMAT_CHARS, '')
    .toUpperCase()
    .normalize('NFKC')
    .replace(DASHES, '-')
    .replace(APOSTROPHES, "'")
    .replace(SPACES, ' ');
  return trimEdges(spaced, EDGE);
}

/**
 * `text` without the code points `edge` accepts at either end. A scan from each end, not a
 * `[...]+$` regex: V8 backtracks on that from every position of a long run that does not reach
 * the end ("x" + 10,000 "!" + "x" took 200 ms per reply).
 */
export function trimEdges(text: string, edge: RegExp): string {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (start < end && edge.test(chars[start]!)) start++;
  while (end > start && edge.test(chars[end - 1]!)) end--;
  return start === 0 && end === chars.length ? text : chars.slice(start, end).join('');
}

/**
 * The list as a map from each entry's normalised form to the entry as configured (the first one
 * when two entries normalise alike). Entries that normalise to "" are left out.
 *
 * Kept per list object: lists come from config and are treated as immutable (a list changed in
 * place after its first use would keep matching its old entries; build a new array instead).
 */
export function indexKeywords(entries: readonly string[]): ReadonlyMap<string, string> {
  let index = indexes.get(entries);
  if (index === undefined) {
    const built = new Map<string, string>();
    for (const entry of entries) {
      const key = normaliseKeyword(entry);
      if (key !== '' && !built.has(key)) built.set(key, entry);
    }
    index = built;
    indexes.set(entries, index);
  }
  return index;
}

const indexes = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** The entry (as configured) that the text is, or undefined when it is none of them. */
export function matchKeyword(text: string, entries: readonly string[]): string | undefined {
  const key = normaliseKeyword(text);
  return key === '' ? undefined : indexKeywords(entries).get(key);
}
