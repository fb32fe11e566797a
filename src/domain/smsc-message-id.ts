/**
 * Carrier message ids (`smscMessageId`) as keys that a receipt can be matched with
 * (ARCHITECTURE.md "Matching receipts").
 *
 * Carriers report the id one way in submit_sm_resp and another way in the receipt. Gateways
 * that store the response id as given and look the receipt's id up as given lose those receipts:
 * - Jasmin logs `DLRMapNotFound: Got a DLR for an unknown message id` and, after its retries,
 *   drops the receipt.
 *   The ids in those reports differ only in form: response `10C8F40D`, receipt `281605133`
 *   (hex vs decimal, jookies/jasmin#535); response `812FC7470000001B`, receipt
 *   `9308878062554710043` (a 64-bit value, past 2^53, jookies/jasmin#586); response
 *   `0e999f21-81ef-…`, receipt `E999F21-81EF-…` (case and a dropped leading zero,
 *   jookies/jasmin#643). Its per-connector `dlr_msgid` setting is where `hex_to_decimal` and
 *   `decimal_to_hex` come from.
 * - Kannel needs `msg-id-type` set per SMSC for the same reason (Vonage, for one, answers in hex
 *   and reports in decimal), and drops a receipt whose id it cannot find, including one that
 *   arrives before the submit_sm_resp was stored.
 *
 * So each side is turned into keys on its own: `responseIdKey` when the response is recorded,
 * `receiptIdKeys` when the receipt arrives. Neither needs the other, which is what lets a receipt
 * that arrives first be parked with its keys and matched when the response lands, in whichever
 * order and on whichever daemon. The format is configured per SMSC (`id_format`).
 *
 * Pure: imports nothing.
 */

/**
 * How one SMSC's receipt ids relate to its response ids.
 * - `exact`: the same text (only surrounding whitespace is ignored).
 * - `case`: the same apart from letter case.
 * - `leading_zeros`: the same apart from case and leading zeros (`0221067780` vs `221067780`,
 *   `0e999f21-…` vs `E999F21-…`).
 * - `hex_to_decimal`: the response has hex, the receipt the same number in decimal.
 * - `decimal_to_hex`: the response has decimal, the receipt the same number in hex.
 * - `auto`: try the `leading_zeros` form first, then the two conversions; for SMSCs whose
 *   behaviour is not yet known. Once it is, configure the exact format: with `auto` an all-digit
 *   receipt id also matches a response id that is the same digits read in the other base.
 */
export type SmscIdFormat = 'auto' | 'exact' | 'case' | 'leading_zeros' | 'hex_to_decimal' | 'decimal_to_hex';

const DECIMAL = /^[0-9]+$/;
const HEX = /^[0-9a-fA-F]+$/;
/**
 * Longer ids are never converted between bases: SMPP's message_id is at most 64 characters, and
 * a hostile receipt text should not make us parse a 60,000-digit number.
 */
const MAX_CONVERTIBLE_LENGTH = 64;

/** Surrounding whitespace and stray NULs (C strings padded by the carrier). */
function trimId(id: string): string {
  return id.replace(/^[\s\0]+|[\s\0]+$/g, '');
}

/** Lower case, leading zeros stripped; an id of only zeros is `0`. */
function canonical(trimmed: string): string {
  const lower = trimmed.toLowerCase();
  const stripped = lower.replace(/^0+/, '');
  return stripped === '' && lower !== '' ? '0' : stripped;
}

/** The canonical hex of a decimal id, or undefined when it is not one. */
function hexOfDecimal(trimmed: string): string | undefined {
  if (trimmed.length > MAX_CONVERTIBLE_LENGTH || !DECIMAL.test(trimmed)) return undefined;
  return BigInt(trimmed).toString(16);
}

/** The canonical decimal of a hex id, or undefined when it is not one. */
function decimalOfHex(trimmed: string): string | undefined {
  if (trimmed.length > MAX_CONVERTIBLE_LENGTH || !HEX.test(trimmed)) return undefined;
  return BigInt(`0x${trimmed}`).toString(10);
}

/**
 * The key stored with a segment's id from submit_sm_resp. For every format but `exact` and `case`
 * it is the canonical form (lower case, no leading zeros), which for a hex id is its canonical hex
 * (`hex_to_decimal`) and for a decimal id its canonical decimal (`decimal_to_hex`). An id the
 * format cannot read (letters in a "decimal", dashes in a "hex") keeps that canonical form too.
 */
export function responseIdKey(id: string, format: SmscIdFormat): string {
  const trimmed = trimId(id);
  switch (format) {
    case 'exact':
      return trimmed;
    case 'case':
      return trimmed.toLowerCase();
    case 'leading_zeros':
    case 'hex_to_decimal':
    case 'decimal_to_hex':
    case 'auto':
      return canonical(trimmed);
  }
}

/**
 * The keys to look a receipt's id up with, best first: the lookup takes the first that matches a
 * stored `responseIdKey`. Empty when the id is empty (nothing to match).
 *
 * `hex_to_decimal` and `decimal_to_hex` give exactly one key: the converted value when the id
 * reads in the receipt's base, else the canonical form (a carrier that sometimes sends the
 * response's form still matches). `auto` gives the canonical form first, then, when the id is
 * all digits, the hex of its decimal value, then, when it is all hex digits, the decimal of its
 * hex value, without duplicates. Ids with other characters (UUIDs with dashes, long
 * alphanumerics) only ever get the canonical form.
 */
export function receiptIdKeys(id: string, format: SmscIdFormat): string[] {
  const trimmed = trimId(id);
  if (trimmed === '') return [];
  switch (format) {
    case 'exact':
      return [trimmed];
    case 'case':
      return [trimmed.toLowerCase()];
    case 'leading_zeros':
      return [canonical(trimmed)];
    case 'hex_to_decimal':
      return [hexOfDecimal(trimmed) ?? canonical(trimmed)];
    case 'decimal_to_hex':
      return [decimalOfHex(trimmed) ?? canonical(trimmed)];
    case 'auto': {
      const keys = [canonical(trimmed), hexOfDecimal(trimmed), decimalOfHex(trimmed)];
      return [...new Set(keys.filter((k): k is string => k !== undefined))];
    }
  }
}
