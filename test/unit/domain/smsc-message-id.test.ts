import { describe, expect, it } from 'vitest';
import { receiptIdKeys, responseIdKey, type SmscIdFormat } from '../../../src/domain/smsc-message-id.ts';

interface Row {
  readonly name: string;
  /** Raw id in submit_sm_resp and the key stored for it. */
  readonly response?: readonly [string, string];
  /** Raw id in the receipt and its lookup keys, best first. */
  readonly receipt?: readonly [string, readonly string[]];
}

// The hex/decimal pairs below were worked out by hand and checked with BigInt; the Jasmin ones are
// the ids from its DLRMapNotFound reports (jookies/jasmin#535, #586, #643, #916).
const TABLES: Record<SmscIdFormat, readonly Row[]> = {
  exact: [
    { name: 'as given', response: ['0A1b', '0A1b'], receipt: ['0A1b', ['0A1b']] },
    { name: 'whitespace and NUL padding trimmed', response: [' 0A1b\0', '0A1b'], receipt: ['\t0A1b \0\0', ['0A1b']] },
    { name: 'leading zeros kept', response: ['000123', '000123'], receipt: ['000123', ['000123']] },
    { name: 'the 0 id', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: '20-digit id untouched', receipt: ['18446744073709551615', ['18446744073709551615']] },
    { name: 'empty receipt id gives no key', response: ['', ''], receipt: ['  ', []] },
  ],
  case: [
    { name: 'lower-cased', response: ['1101C1-C9D03D-F000', '1101c1-c9d03d-f000'], receipt: ['1101c1-C9D03D-f000', ['1101c1-c9d03d-f000']] },
    { name: 'leading zeros kept', response: ['0ABC', '0abc'], receipt: ['0ABC', ['0abc']] },
    { name: 'the 0 id', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: 'alphanumeric', response: ['SAR-2347039245475-1EEDF843-2-1', 'sar-2347039245475-1eedf843-2-1'] },
  ],
  leading_zeros: [
    { name: 'decimal with leading zero (jsmpp#178)', response: ['221067780', '221067780'], receipt: ['0221067780', ['221067780']] },
    { name: 'mixed case and zeros', response: ['00aBc', 'abc'], receipt: ['ABC', ['abc']] },
    {
      name: 'UUID that lost its leading zero and case (jasmin#643)',
      response: ['0e999f21-81ef-4974-a414-3de98174e3c7', 'e999f21-81ef-4974-a414-3de98174e3c7'],
      receipt: ['E999F21-81EF-4974-A414-3DE98174E3C7', ['e999f21-81ef-4974-a414-3de98174e3c7']],
    },
    { name: 'the 0 id stays 0', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: 'all zeros is 0', response: ['0000', '0'], receipt: ['00000000000000000000', ['0']] },
    { name: '20-digit id, no conversion', receipt: ['018446744073709551615', ['18446744073709551615']] },
  ],
  hex_to_decimal: [
    { name: 'jasmin#535', response: ['10C8F40D', '10c8f40d'], receipt: ['281605133', ['10c8f40d']] },
    { name: 'past 2^53 (jasmin#586)', response: ['812FC7470000001B', '812fc7470000001b'], receipt: ['9308878062554710043', ['812fc7470000001b']] },
    { name: '20-digit decimal (2^64 - 1)', response: ['FFFFFFFFFFFFFFFF', 'ffffffffffffffff'], receipt: ['18446744073709551615', ['ffffffffffffffff']] },
    { name: 'leading zeros on both sides', response: ['000a', 'a'], receipt: ['0010', ['a']] },
    { name: 'the 0 id', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: 'zeros are 0', response: ['00', '0'], receipt: ['00000000000000000000', ['0']] },
    { name: 'hex digits only, no letters', response: ['12345', '12345'], receipt: ['74565', ['12345']] },
    { name: 'receipt in hex after all: canonical form', receipt: ['10C8F40D', ['10c8f40d']] },
    { name: 'alphanumeric: canonical form only', response: ['Msg-0042', 'msg-0042'], receipt: ['MSG-0042', ['msg-0042']] },
    { name: 'whitespace trimmed', response: [' 10C8F40D ', '10c8f40d'], receipt: [' 281605133\n', ['10c8f40d']] },
  ],
  decimal_to_hex: [
    { name: 'decimal response, hex receipt', response: ['281605133', '281605133'], receipt: ['10C8F40D', ['281605133']] },
    { name: 'leading zeros', response: ['000281605133', '281605133'], receipt: ['0010c8f40d', ['281605133']] },
    { name: '20-digit decimal', response: ['18446744073709551615', '18446744073709551615'], receipt: ['ffffffffffffffff', ['18446744073709551615']] },
    { name: 'digits read as hex', receipt: ['12345', ['74565']] },
    { name: 'the 0 id', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: 'alphanumeric: canonical form only', response: ['ABC-123', 'abc-123'], receipt: ['ABC-123', ['abc-123']] },
  ],
  auto: [
    { name: 'canonical response key', response: ['00A1B', 'a1b'] },
    { name: 'decimal response kept decimal', response: ['0281605133', '281605133'] },
    {
      name: 'all digits: literal, then hex of decimal, then decimal of hex',
      receipt: ['281605133', ['281605133', '10c8f40d', '10760507699']],
    },
    { name: 'hex letters: literal, then decimal of hex', receipt: ['10C8F40D', ['10c8f40d', '281605133']] },
    { name: 'leading zeros and case in the literal', receipt: ['000AbC', ['abc', '2748']] },
    {
      name: '20-digit decimal',
      receipt: ['18446744073709551615', ['18446744073709551615', 'ffffffffffffffff', '114598615266301018707477']],
    },
    { name: 'the 0 id: one key', response: ['0', '0'], receipt: ['0', ['0']] },
    { name: 'zeros: one key', receipt: ['0000', ['0']] },
    { name: 'small number', receipt: ['10', ['10', 'a', '16']] },
    { name: 'single digit under 10: conversions equal the literal', receipt: ['7', ['7']] },
    {
      name: 'UUID: canonical form only',
      response: ['0E999F21-81EF-4974-A414-3DE98174E3C7', 'e999f21-81ef-4974-a414-3de98174e3c7'],
      receipt: ['e999f21-81ef-4974-a414-3de98174e3c7', ['e999f21-81ef-4974-a414-3de98174e3c7']],
    },
    { name: 'long alphanumeric: canonical form only', receipt: ['SAR-2347039245475-1EEDF843-2-1', ['sar-2347039245475-1eedf843-2-1']] },
    { name: 'longer than 64 characters: no conversion', receipt: ['1'.repeat(65), ['1'.repeat(65)]] },
    { name: 'empty: no keys', receipt: ['', []] },
  ],
};

describe.each(Object.entries(TABLES) as [SmscIdFormat, readonly Row[]][])('format %s', (format, rows) => {
  const responses = rows.filter((r) => r.response !== undefined);
  const receipts = rows.filter((r) => r.receipt !== undefined);
  it.each(responses.map((r) => [r.name, r.response!] as const))('responseIdKey: %s', (_name, [raw, key]) => {
    expect(responseIdKey(raw, format)).toBe(key);
  });
  it.each(receipts.map((r) => [r.name, r.receipt!] as const))('receiptIdKeys: %s', (_name, [raw, keys]) => {
    expect(receiptIdKeys(raw, format)).toEqual(keys);
  });
});

describe('a receipt finds its response', () => {
  // [format, id in submit_sm_resp, id in the receipt, matches?]
  const cases: [SmscIdFormat, string, string, boolean][] = [
    ['exact', 'abc123', 'abc123', true],
    ['exact', 'abc123', 'ABC123', false],
    ['case', 'abc123', 'ABC123', true],
    ['case', '0abc123', 'ABC123', false],
    ['leading_zeros', '0abc123', 'ABC123', true],
    ['leading_zeros', '10C8F40D', '281605133', false],
    ['hex_to_decimal', '10C8F40D', '281605133', true],
    ['hex_to_decimal', '812FC7470000001B', '9308878062554710043', true],
    ['hex_to_decimal', '281605133', '10C8F40D', false],
    ['decimal_to_hex', '281605133', '10C8F40D', true],
    ['decimal_to_hex', '10C8F40D', '281605133', false],
    ['auto', '10C8F40D', '281605133', true],
    ['auto', '281605133', '10c8f40d', true],
    ['auto', '812FC7470000001B', '9308878062554710043', true],
    ['auto', '18446744073709551615', 'FFFFFFFFFFFFFFFF', true],
    ['auto', '0e999f21-81ef-4974-a414-3de98174e3c7', 'E999F21-81EF-4974-A414-3DE98174E3C7', true],
    ['auto', '0221067780', '221067780', true],
    ['auto', 'abc-1', 'abc-2', false],
  ];
  it.each(cases)('%s: response %s, receipt %s -> %s', (format, response, receipt, matches) => {
    expect(receiptIdKeys(receipt, format).includes(responseIdKey(response, format))).toBe(matches);
  });
});

describe('auto', () => {
  it("puts the literal canonical form first, so an id that matches as written wins over a conversion", () => {
    for (const id of ['281605133', '10C8F40D', '0010', '18446744073709551615', 'abc', '0']) {
      expect(receiptIdKeys(id, 'auto')[0]).toBe(responseIdKey(id, 'auto'));
    }
  });
  it('never repeats a key', () => {
    for (const id of ['0', '1', '9', '10', '0000', 'a', 'ff', '281605133']) {
      const keys = receiptIdKeys(id, 'auto');
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});
