/**
 * GSM 03.38 (3GPP TS 23.038) default alphabet and its default extension table, carried UNPACKED:
 * one septet per octet, which is how SMPP 3.4 carries data_coding 0 text. Packing into 7-bit
 * octets is the SMSC's job on the air interface, never ours.
 *
 * Only the default tables are supported. National language shift tables (Turkish, Spanish,
 * Portuguese...) need a UDH IE (0x24/0x25) and most SMSCs do not honour them, so characters from
 * them go out as UCS-2 instead.
 */

export const GSM7_ESCAPE = 0x1b;

/**
 * The basic table indexed by septet. 0x1B is the escape and has no character of its own, so it
 * holds a placeholder that never matches input (U+FFFF is a noncharacter).
 */
const BASIC_TABLE: readonly string[] = [
  // 0x00-0x0F
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  // 0x10-0x1F
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\uffff', 'Æ', 'æ', 'ß', 'É',
  // 0x20-0x2F
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  // 0x30-0x3F
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  // 0x40-0x4F
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  // 0x50-0x5F
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  // 0x60-0x6F
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  // 0x70-0x7F
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/** The default extension table: septet after 0x1B -> character. */
const EXTENSION_TABLE: ReadonlyMap<number, string> = new Map([
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]);

const REPLACEMENT = 0xfffd;
const SPACE = 0x20;

/** BASIC_TABLE as UTF-16 code units, by septet. */
const BASIC_UNITS: readonly number[] = BASIC_TABLE.map((char) => char.charCodeAt(0));

/**
 * The code unit ESC + septet decodes to: the extension character, or the basic character of that
 * septet when the extension has none (23.038's fallback). Septet 0x1B never gets here.
 */
const EXTENSION_UNITS: readonly number[] = BASIC_TABLE.map((char, septet) => (EXTENSION_TABLE.get(septet) ?? char).charCodeAt(0));

const BASIC_ENCODE: ReadonlyMap<string, number> = new Map(
  BASIC_TABLE.flatMap((char, septet) => (septet === GSM7_ESCAPE ? [] : [[char, septet] as const])),
);
const EXTENSION_ENCODE: ReadonlyMap<string, number> = new Map(
  [...EXTENSION_TABLE].map(([septet, char]) => [char, septet] as const),
);

/** Every character of the basic table, in septet order (the escape excluded). */
export const GSM7_BASIC_CHARS: readonly string[] = [...BASIC_ENCODE.keys()];
/** Every character of the extension table; each costs two septets. */
export const GSM7_EXTENSION_CHARS: readonly string[] = [...EXTENSION_ENCODE.keys()];

/**
 * Per UTF-16 code unit: its septet (basic table), EXTENDED | septet (escape + extension table), or
 * -1 (not in the default alphabet). Every GSM character is in the BMP, so code units are enough.
 * A table indexed by char code: the text of every message is counted and encoded on the hot path,
 * and a Map lookup of a one-character string per character cost more than the rest of the PDU.
 */
const EXTENDED = 0x100;
const SEPTET_OF_UNIT: Int16Array = (() => {
  const table = new Int16Array(0x10000).fill(-1);
  for (const [char, septet] of EXTENSION_ENCODE) table[char.charCodeAt(0)] = EXTENDED | septet;
  for (const [char, septet] of BASIC_ENCODE) table[char.charCodeAt(0)] = septet;
  return table;
})();

/**
 * Septets one UTF-16 code unit costs: 1 (basic), 2 (escape + extension) or undefined when it is
 * not in the default alphabet.
 */
export function gsm7CharSeptets(char: string): 1 | 2 | undefined {
  if (char.length !== 1) return undefined;
  const septet = SEPTET_OF_UNIT[char.charCodeAt(0)]!;
  if (septet < 0) return undefined;
  return septet & EXTENDED ? 2 : 1;
}

/** Septets the text needs (extension characters count 2), or undefined if any char is not GSM. */
export function gsm7SeptetCount(text: string): number | undefined {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const septet = SEPTET_OF_UNIT[text.charCodeAt(i)]!;
    if (septet < 0) return undefined;
    septets += septet & EXTENDED ? 2 : 1;
  }
  return septets;
}

/**
 * Unpacked septets for the text, or undefined when any character is not representable: a
 * message is never sent with characters silently replaced.
 */
export function encodeGsm7(text: string): Buffer | undefined {
  const septets = gsm7SeptetCount(text);
  if (septets === undefined) return undefined;
  const out = Buffer.allocUnsafe(septets);
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const septet = SEPTET_OF_UNIT[text.charCodeAt(i)]!;
    if (septet & EXTENDED) {
      out[at++] = GSM7_ESCAPE;
      out[at++] = septet & 0x7f;
    } else out[at++] = septet;
  }
  return out;
}

/** Writes one UTF-16 code unit, little-endian; returns the next offset. */
function putUnit(out: Buffer, at: number, unit: number): number {
  out[at] = unit & 0xff;
  out[at + 1] = unit >>> 8;
  return at + 2;
}

export type Gsm7Decoded = { text: string; malformed?: 'gsm7_septet_out_of_range' };

/**
 * Decodes unpacked septets, telling whether any octet was above 0x7F (which cannot be a septet;
 * such octets decode as U+FFFD so the rest of the text survives).
 *
 * Escape handling follows 23.038:
 * - ESC + a code with no extension character decodes as the basic character of that code (the
 *   spec's fallback for receivers that lack the extension).
 * - ESC + ESC is reserved for a further extension table and is shown as a space.
 * - A lone ESC at the end decodes as a space, the spec's display rule for an escape a receiver
 *   cannot use. Segments must be joined as bytes before decoding so that a pair split by a careless
 *   sender still decodes whole.
 */
export function decodeGsm7Checked(bytes: Uint8Array): Gsm7Decoded {
  // Each septet, escape pair or stray octet is exactly one UTF-16 code unit (every GSM character is
  // in the BMP): write the units as UTF-16LE and make the string once, instead of a cons-string
  // per `+=`.
  const out = Buffer.allocUnsafe(bytes.length * 2);
  let n = 0;
  let outOfRange = false;
  for (let i = 0; i < bytes.length; i++) {
    const septet = bytes[i] ?? 0;
    if (septet > 0x7f) {
      outOfRange = true;
      n = putUnit(out, n, REPLACEMENT);
      continue;
    }
    if (septet !== GSM7_ESCAPE) {
      n = putUnit(out, n, BASIC_UNITS[septet] ?? REPLACEMENT);
      continue;
    }
    const next = bytes[i + 1];
    if (next === undefined || next === GSM7_ESCAPE) {
      n = putUnit(out, n, SPACE);
      i++;
      continue;
    }
    i++;
    if (next > 0x7f) {
      outOfRange = true;
      n = putUnit(out, n, REPLACEMENT);
      continue;
    }
    n = putUnit(out, n, EXTENSION_UNITS[next] ?? REPLACEMENT);
  }
  const text = out.toString('utf16le', 0, n);
  return outOfRange ? { text, malformed: 'gsm7_septet_out_of_range' } : { text };
}

/** Decodes unpacked septets; see decodeGsm7Checked for escape and out-of-range handling. */
export function decodeGsm7(bytes: Uint8Array): string {
  return decodeGsm7Checked(bytes).text;
}
