/**
 * decodeGsm7Checked and decodeUcs2 against straightforward reference decoders (the character-by-
 * character versions they replaced), over every octet, every pair of octets, random and long
 * inputs: the result must be the same string, the same flags, and a flat string either way.
 */
import { describe, expect, it } from 'vitest';
import { GSM7_BASIC_CHARS, decodeGsm7Checked, type Gsm7Decoded } from '../../../../src/smpp/text/gsm7.ts';
import { decodeUcs2, type Ucs2Decoded } from '../../../../src/smpp/text/ucs2.ts';

/** Septet -> character, 0x1B (the escape) excluded, as in the basic table. */
const BASIC = new Map<number, string>();
{
  let septet = 0;
  for (const char of GSM7_BASIC_CHARS) {
    if (septet === 0x1b) septet++;
    BASIC.set(septet++, char);
  }
}
const EXTENSION = new Map<number, string>([
  [0x0a, '\f'], [0x14, '^'], [0x28, '{'], [0x29, '}'], [0x2f, '\\'],
  [0x3c, '['], [0x3d, '~'], [0x3e, ']'], [0x40, '|'], [0x65, '€'],
]);

function referenceGsm7(bytes: Uint8Array): Gsm7Decoded {
  let text = '';
  let outOfRange = false;
  for (let i = 0; i < bytes.length; i++) {
    const septet = bytes[i] ?? 0;
    if (septet > 0x7f) {
      outOfRange = true;
      text += '\ufffd';
    } else if (septet !== 0x1b) {
      text += BASIC.get(septet) ?? '\ufffd';
    } else {
      const next = bytes[++i];
      if (next === undefined || next === 0x1b) text += ' ';
      else if (next > 0x7f) {
        outOfRange = true;
        text += '\ufffd';
      } else text += EXTENSION.get(next) ?? BASIC.get(next) ?? '\ufffd';
    }
  }
  return outOfRange ? { text, malformed: 'gsm7_septet_out_of_range' } : { text };
}

function referenceUcs2(bytes: Uint8Array): Ucs2Decoded {
  let text = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return bytes.length % 2 === 0 ? { text } : { text, malformed: 'odd_length_ucs2' };
}

/** A deterministic pseudo-random source (xorshift), so a failure can be replayed. */
function randomBytes(length: number, seed: number, max = 256): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % max;
  }
  return out;
}

describe('text decoders against reference decoders', () => {
  it('GSM 7-bit: the basic table has 127 characters (the escape has none)', () => {
    expect(BASIC.size).toBe(127);
  });

  it('GSM 7-bit: every octet and every pair of octets', () => {
    for (let a = 0; a < 256; a++) {
      expect(decodeGsm7Checked(Uint8Array.of(a))).toEqual(referenceGsm7(Uint8Array.of(a)));
      for (let b = 0; b < 256; b++) {
        const pair = Uint8Array.of(a, b);
        const got = decodeGsm7Checked(pair);
        const want = referenceGsm7(pair);
        if (got.text !== want.text || got.malformed !== want.malformed) expect(got, `${a} ${b}`).toEqual(want);
      }
    }
  });

  it.each([
    [0, 160, 128],
    [1, 160, 256],
    [2, 20_000, 128],
    [3, 70_000, 130],
    [4, 8192, 128],
    [5, 8193, 128],
  ])('GSM 7-bit: random input #%i of %i octets (values below %i)', (seed, length, max) => {
    const bytes = randomBytes(length, seed + 1, max);
    expect(decodeGsm7Checked(bytes)).toEqual(referenceGsm7(bytes));
  });

  it('GSM 7-bit: runs of escapes, including one at the very end', () => {
    for (const hex of ['1b', '1b1b', '1b1b1b', '411b1b1b', '1b651b', '1b28291b29', '1bff1b80', '1b1b651b65']) {
      const bytes = Buffer.from(hex, 'hex');
      expect(decodeGsm7Checked(bytes), hex).toEqual(referenceGsm7(bytes));
    }
  });

  it('UCS-2: every pair of octets (all code units, lone surrogates kept as they are)', () => {
    const bytes = new Uint8Array(0x20000);
    for (let unit = 0; unit < 0x10000; unit++) {
      bytes[unit * 2] = unit >>> 8;
      bytes[unit * 2 + 1] = unit & 0xff;
    }
    const got = decodeUcs2(bytes);
    expect(got.text.length).toBe(0x10000);
    expect(got).toEqual(referenceUcs2(bytes));
    for (const unit of [0xd800, 0xdbff, 0xdc00, 0xdfff]) expect(got.text.charCodeAt(unit)).toBe(unit);
  });

  it.each([0, 1, 2, 3, 139, 140, 141, 16_383, 16_384, 16_385, 40_001])('UCS-2: random input of %i octets', (length) => {
    const bytes = randomBytes(length, length + 7);
    expect(decodeUcs2(bytes)).toEqual(referenceUcs2(bytes));
  });
});
