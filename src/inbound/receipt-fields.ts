/**
 * A delivery receipt's text split into its fields (`id:`, `stat:`, `submit date:`, ...), for
 * receipt-text.ts to read. Keys in any case, with `_`, `-` or a space inside the two-word date
 * keys, values up to the next key, `text:` to the end; fields Parley does not know are kept as
 * they are written. Pure, and on the receipt path for every deliver_sm: written to allocate only
 * the strings it returns.
 */

export type KnownKey = 'id' | 'sub' | 'dlvrd' | 'submitdate' | 'donedate' | 'stat' | 'err' | 'text';

/** Keys compared lower-cased without spaces, `_` or `-`; a few synonyms carriers use. */
const KNOWN_KEYS: readonly (readonly [compact: string, key: KnownKey])[] = [
  ['id', 'id'],
  ['sub', 'sub'],
  ['dlvrd', 'dlvrd'],
  ['submitdate', 'submitdate'],
  ['donedate', 'donedate'],
  ['stat', 'stat'],
  ['status', 'stat'],
  ['err', 'err'],
  ['error', 'err'],
  ['text', 'text'],
];

/**
 * The known key `text[start, end)` names, compared as KNOWN_KEYS says, in place: lower-casing the
 * key and stripping its separators made two strings for each of a receipt's eight fields, most of
 * splitFields' time. A key holds ASCII letters, digits, `_`, `-` and (a date key) a space only, so
 * `| 0x20` lower-cases its letters and leaves its digits as they are.
 */
function knownKeyAt(text: string, start: number, end: number): KnownKey | undefined {
  candidates: for (const [compact, key] of KNOWN_KEYS) {
    let i = 0;
    for (let p = start; p < end; p++) {
      const c = text.charCodeAt(p);
      if (c === 0x20 || c === 0x5f || c === 0x2d) continue;
      if (i === compact.length || (c | 0x20) !== compact.charCodeAt(i)) continue candidates;
      i++;
    }
    if (i === compact.length) return key;
  }
  return undefined;
}

/**
 * A key: at the start or after whitespace, `,` or `;`; a letter then letters, digits, `_`, `-`
 * (so times like `12:30` inside a value are not keys), or one of the two-word date keys; then
 * optional spaces and a colon. As a regular expression:
 *
 *   /(?<=^|[\s,;])(submit[ _-]?date|done[ _-]?date|[a-z][a-z0-9_-]*)\s*:/gi
 *
 * read here by hand instead: the expression tried its look-behind at every position and made an
 * array and strings for every match. With the values trimmed in place and the dates read without
 * strings (receipt-text.ts), parseReceipt takes 3.4 µs instead of 4.6 for an Appendix B receipt
 * (a micro-benchmark of 300,000). test/unit/inbound/receipt-text.test.ts checks this reading
 * against the expression on random texts.
 */
function nextKey(text: string, from: number, found: KeyFound): boolean {
  for (let p = from; p < text.length; p++) {
    if (p > 0 && !separatorBefore(text.charCodeAt(p - 1))) continue;
    if (!isLetter(text.charCodeAt(p))) continue;
    // The date keys come first in the expression: `submit date:` is one key, not `date:`.
    const dateEnd = dateKeyEnd(text, p);
    if (dateEnd > 0 && colonAfter(text, dateEnd, found)) {
      found.at = p;
      found.keyEnd = dateEnd;
      return true;
    }
    let q = p + 1;
    while (q < text.length && isKeyCharacter(text.charCodeAt(q))) q++;
    if (colonAfter(text, q, found)) {
      found.at = p;
      found.keyEnd = q;
      return true;
    }
  }
  return false;
}

interface KeyFound {
  /** Where the key starts. */
  at: number;
  /** Where its name ends. */
  keyEnd: number;
  /** Where its value starts (after the colon). */
  valueAt: number;
}

/** `\s` of a regular expression, for one UTF-16 unit. */
const SPACE = /\s/;

function isSpace(code: number): boolean {
  if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return true;
  return code > 0x7f && SPACE.test(String.fromCharCode(code));
}

function separatorBefore(code: number): boolean {
  return code === 0x2c || code === 0x3b || isSpace(code);
}

/** ASCII letters only: a case-insensitive [a-z] matches no other character. */
function isLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

function isKeyCharacter(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2d;
}

/** Sets where the value starts when `text` has optional spaces and a colon at `at`. */
function colonAfter(text: string, at: number, found: KeyFound): boolean {
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  if (text.charCodeAt(at) !== 0x3a) return false;
  found.valueAt = at + 1;
  return true;
}

/** The end of `submit[ _-]?date` or `done[ _-]?date` (any case) at `at`, or -1. */
function dateKeyEnd(text: string, at: number): number {
  let p = wordEnd(text, at, 'submit');
  if (p < 0) p = wordEnd(text, at, 'done');
  if (p < 0) return -1;
  const c = text.charCodeAt(p);
  if (c === 0x20 || c === 0x5f || c === 0x2d) {
    const end = wordEnd(text, p + 1, 'date');
    if (end > 0) return end;
  }
  return wordEnd(text, p, 'date');
}

/** The end of `word` (lower case) at `at` in any case, or -1. */
function wordEnd(text: string, at: number, word: string): number {
  if (at + word.length > text.length) return -1;
  for (let i = 0; i < word.length; i++) {
    if ((text.charCodeAt(at + i) | 0x20) !== word.charCodeAt(i)) return -1;
  }
  return at + word.length;
}

export interface ReceiptFields {
  known: Partial<Record<KnownKey, string>>;
  extra: Record<string, string>;
}

/** Whitespace as `\s` means it, and NUL. */
function trimmed(code: number, separators: boolean): boolean {
  return code === 0 || (separators && (code === 0x2c || code === 0x3b)) || isSpace(code);
}

/**
 * `text[start, end)` without surrounding whitespace and NULs; a field value also loses the `,`
 * or `;` that ended it. One slice: this runs for every field of every receipt.
 */
export function trimValue(text: string, start: number, end: number, separators = true): string {
  while (start < end && trimmed(text.charCodeAt(start), false)) start++;
  while (end > start && trimmed(text.charCodeAt(end - 1), separators)) end--;
  return text.slice(start, end);
}

/** Splits a receipt text into fields; `text:` runs to the end. The first of a repeated key wins. */
export function splitFields(text: string): ReceiptFields {
  const fields: ReceiptFields = { known: {}, extra: {} };
  const key: KeyFound = { at: 0, keyEnd: 0, valueAt: 0 };
  let more = nextKey(text, 0, key);
  while (more) {
    const known = knownKeyAt(text, key.at, key.keyEnd);
    const keyAt = key.at;
    const keyEnd = key.keyEnd;
    const start = key.valueAt;
    if (known === 'text') {
      if (fields.known.text === undefined) fields.known.text = trimValue(text, start, text.length, false);
      break;
    }
    more = nextKey(text, start, key);
    const value = trimValue(text, start, more ? key.at : text.length);
    if (known !== undefined) {
      if (fields.known[known] === undefined) fields.known[known] = value;
    } else {
      const lower = text.slice(keyAt, keyEnd).toLowerCase();
      if (!Object.hasOwn(fields.extra, lower)) fields.extra[lower] = value;
    }
  }
  return fields;
}
