/**
 * Phone numbers and sender ids as Parley stores them: digits only for numbers (E.164 without the
 * plus), up to 11 GSM characters for alphanumeric sender ids.
 */
export type AddressKind = 'international' | 'national' | 'short_code' | 'alphanumeric';

const NUMBER = /^\+?[0-9]+$/;
const SEPARATORS = /[\s()-]/g;
const DIGITS = /^[0-9]{3,20}$/;
const ALPHANUMERIC = /^[A-Za-z0-9 .\-_&]{1,11}$/;

/**
 * The one spelling of an address Parley stores, compares and routes by, whoever gives it (an app's
 * payload, the config's numbers, prefixes and default_from, an SMSC's deliver_sm): a number as its
 * digits, without the plus, spaces, dashes or brackets (`+1 (415) 555-0101` -> `14155550101`), so
 * that a thread, an opt-out and a route line up however the number was written; anything else
 * (an alphanumeric sender id) as given. It validates nothing: see normaliseNumber and normaliseSender.
 */
export function normaliseAddress(raw: string): string {
  const compact = raw.replace(SEPARATORS, '');
  return NUMBER.test(compact) ? compact.replace(/^\+/, '') : raw;
}

/** Normalises a destination: an E.164 number (`+14155550101`) or digits; undefined when invalid. */
export function normaliseNumber(raw: string): string | undefined {
  const address = normaliseAddress(raw);
  return DIGITS.test(address) ? address : undefined;
}

/** Normalises a sender: a number as above, or an alphanumeric id kept as given. */
export function normaliseSender(raw: string): string | undefined {
  return normaliseNumber(raw) ?? (ALPHANUMERIC.test(raw) && /[A-Za-z]/.test(raw) ? raw : undefined);
}

/**
 * How the address reads, for TON/NPI: letters mean alphanumeric, up to 8 digits a short code
 * (national numbering differs, but no country's subscriber numbers are that short in E.164).
 */
export function addressKind(address: string): AddressKind {
  if (/[^0-9]/.test(address)) return 'alphanumeric';
  if (address.length <= 8) return 'short_code';
  return 'international';
}
