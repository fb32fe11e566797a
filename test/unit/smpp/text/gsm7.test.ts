import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  GSM7_BASIC_CHARS,
  GSM7_EXTENSION_CHARS,
  decodeGsm7,
  decodeGsm7Checked,
  encodeGsm7,
  gsm7SeptetCount,
} from '../../../../src/smpp/text/index.ts';

const hex = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

// The basic table written out by hand from 3GPP TS 23.038 6.2.1, septet order; 0x1B is the escape.
const BASIC: readonly (readonly [number, string])[] = [
  [0x00, '@'], [0x01, '£'], [0x02, '$'], [0x03, '¥'], [0x04, 'è'], [0x05, 'é'], [0x06, 'ù'],
  [0x07, 'ì'], [0x08, 'ò'], [0x09, 'Ç'], [0x0a, '\n'], [0x0b, 'Ø'], [0x0c, 'ø'], [0x0d, '\r'],
  [0x0e, 'Å'], [0x0f, 'å'], [0x10, 'Δ'], [0x11, '_'], [0x12, 'Φ'], [0x13, 'Γ'], [0x14, 'Λ'],
  [0x15, 'Ω'], [0x16, 'Π'], [0x17, 'Ψ'], [0x18, 'Σ'], [0x19, 'Θ'], [0x1a, 'Ξ'], [0x1c, 'Æ'],
  [0x1d, 'æ'], [0x1e, 'ß'], [0x1f, 'É'], [0x20, ' '], [0x21, '!'], [0x22, '"'], [0x23, '#'],
  [0x24, '¤'], [0x25, '%'], [0x26, '&'], [0x27, "'"], [0x28, '('], [0x29, ')'], [0x2a, '*'],
  [0x2b, '+'], [0x2c, ','], [0x2d, '-'], [0x2e, '.'], [0x2f, '/'],
  ...[...'0123456789:;<=>?'].map((c, i) => [0x30 + i, c] as const),
  [0x40, '¡'],
  ...[...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((c, i) => [0x41 + i, c] as const),
  [0x5b, 'Ä'], [0x5c, 'Ö'], [0x5d, 'Ñ'], [0x5e, 'Ü'], [0x5f, '§'], [0x60, '¿'],
  ...[...'abcdefghijklmnopqrstuvwxyz'].map((c, i) => [0x61 + i, c] as const),
  [0x7b, 'ä'], [0x7c, 'ö'], [0x7d, 'ñ'], [0x7e, 'ü'], [0x7f, 'à'],
];

const EXTENSION: readonly (readonly [string, number])[] = [
  ['\f', 0x0a], ['^', 0x14], ['{', 0x28], ['}', 0x29], ['\\', 0x2f],
  ['[', 0x3c], ['~', 0x3d], [']', 0x3e], ['|', 0x40], ['€', 0x65],
];

describe('GSM 03.38 basic table', () => {
  it('covers all 127 non-escape septets exactly once', () => {
    expect(BASIC).toHaveLength(127);
    expect(GSM7_BASIC_CHARS).toEqual(BASIC.map(([, c]) => c));
  });

  it.each(BASIC)('septet %i is %j and round-trips', (septet, char) => {
    expect([...(encodeGsm7(char) ?? [])]).toEqual([septet]);
    expect(decodeGsm7(Uint8Array.of(septet))).toBe(char);
    expect(gsm7SeptetCount(char)).toBe(1);
  });

  it('matches the independent table of the smpp npm package', () => {
    const require = createRequire(import.meta.url);
    const defs: unknown = require('smpp/lib/defs.js');
    const chars = readSmppGsmChars(defs);
    // The package keeps the escape at 0x1B in its string; we do not expose it as a character.
    expect(chars).toHaveLength(128);
    expect([...chars].filter((_, i) => i !== 0x1b)).toEqual(GSM7_BASIC_CHARS);
  });
});

function readSmppGsmChars(defs: unknown): string {
  if (typeof defs === 'object' && defs !== null && 'gsmCoder' in defs) {
    const coder: unknown = defs.gsmCoder;
    if (typeof coder === 'object' && coder !== null && 'GSM' in coder) {
      const gsm: unknown = coder.GSM;
      if (typeof gsm === 'object' && gsm !== null && 'chars' in gsm && typeof gsm.chars === 'string') {
        return gsm.chars;
      }
    }
  }
  throw new Error('smpp/lib/defs.js no longer exposes gsmCoder.GSM.chars');
}

describe('GSM 03.38 extension table', () => {
  it('lists exactly the ten default extension characters', () => {
    expect([...GSM7_EXTENSION_CHARS].sort()).toEqual(EXTENSION.map(([c]) => c).sort());
  });

  it.each(EXTENSION)('%j is ESC + septet %i and round-trips', (char, code) => {
    expect([...(encodeGsm7(char) ?? [])]).toEqual([0x1b, code]);
    expect(decodeGsm7(Uint8Array.of(0x1b, code))).toBe(char);
    expect(gsm7SeptetCount(char)).toBe(2);
  });
});

describe('encodeGsm7', () => {
  it.each([
    ['@', '00'],
    ['€', '1b65'],
    ['_', '11'],
    ['Hello World', '48656c6c6f20576f726c64'],
    ['{x}', '1b28781b29'],
    ['£5 @ 10€', '013520002031301b65'],
    ['ΔΦΓ\r\n', '1012130d0a'],
    ['', ''],
  ])('%j -> %s', (text, expected) => {
    expect(hex(encodeGsm7(text))).toBe(expected);
  });

  // Lowercase ç, acute á, backtick, Greek alpha (looks like A), Cyrillic, emoji: none is in the
  // default alphabet and none may be swapped for a look-alike.
  it.each(['ç', 'á', '`', 'Α', 'Б', 'a😀', 'naïve', '\t'])('%j is not representable', (text) => {
    expect(encodeGsm7(text)).toBeUndefined();
    expect(gsm7SeptetCount(text)).toBeUndefined();
  });

  it('round-trips every basic and extension character in one text', () => {
    const all = GSM7_BASIC_CHARS.join('') + GSM7_EXTENSION_CHARS.join('');
    const bytes = encodeGsm7(all);
    expect(bytes).toHaveLength(127 + 2 * 10);
    expect(decodeGsm7(bytes ?? Buffer.alloc(0))).toBe(all);
  });
});

describe('gsm7SeptetCount', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['€', 2],
    ['[]', 4],
    ['a{b}c', 7],
  ])('%j -> %d', (text, count) => {
    expect(gsm7SeptetCount(text)).toBe(count);
  });
});

describe('decodeGsm7 edge cases', () => {
  it.each([
    ['escape + code without extension char decodes as the basic char', '1b41', 'A'],
    ['escape + 0x0D decodes as CR', '1b0d', '\r'],
    ['lone trailing escape decodes as a space', '611b', 'a '],
    ['escape escape (reserved) decodes as one space', '1b1b62', ' b'],
    ['form feed via extension', '1b0a', '\f'],
    ['LF in the basic table', '0a', '\n'],
  ])('%s', (_label, bytes, text) => {
    expect(decodeGsm7Checked(Buffer.from(bytes, 'hex'))).toEqual({ text });
  });

  it.each([
    ['80', '\ufffd'],
    ['41ff42', 'A\ufffdB'],
    ['1b80', '\ufffd'],
  ])('octet above 0x7F in %s is flagged', (bytes, text) => {
    expect(decodeGsm7Checked(Buffer.from(bytes, 'hex'))).toEqual({
      text,
      malformed: 'gsm7_septet_out_of_range',
    });
  });
});
