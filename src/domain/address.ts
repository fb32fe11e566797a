/**
 * Phone numbers and sender ids as Parley stores them: digits only for numbers (E.164 without the
 * plus), up to 11 GSM characters for alphanumeric sender ids.
 */
export type AddressKind = 'international' | 'national' | 'short_code' | 'alphanumeric';

const DIGITS = /^\+?[0-9]{3,20}$/;
const ALPHANUMERIC = /^[A-Za-z0-9 .\-_&]{1,11}$/;

/** Normalises a destination: an E.164 number (`+14155550101`) or digits; undefined when invalid. */
export function normaliseNumber(raw: string): string | undefined {
  const compact = raw.replace(/[\s()-]/g, '');
  return DIGITS.test(compact) ? compact.replace(/^\+/, '') : undefined;
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
