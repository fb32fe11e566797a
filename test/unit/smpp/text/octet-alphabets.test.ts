import { describe, expect, it } from 'vitest';
import {
  decodeAscii,
  decodeLatin1,
  decodeUcs2,
  encodeAscii,
  encodeLatin1,
  encodeUcs2,
} from '../../../../src/smpp/text/index.ts';

describe('UCS-2 (UTF-16BE)', () => {
  it.each([
    ['Hi', '00480069'],
    ['Привет', '041f04400438043204350442'],
    ['😀', 'd83dde00'],
    ['a😀€', '0061d83dde0020ac'],
    ['中文', '4e2d6587'],
    ['', ''],
  ])('%j <-> %s', (text, hexBytes) => {
    expect(encodeUcs2(text).toString('hex')).toBe(hexBytes);
    expect(decodeUcs2(Buffer.from(hexBytes, 'hex'))).toEqual({ text });
  });

  it('decodes the complete units of an odd-length message and flags it', () => {
    expect(decodeUcs2(Buffer.from('0048006900', 'hex'))).toEqual({
      text: 'Hi',
      malformed: 'odd_length_ucs2',
    });
    expect(decodeUcs2(Buffer.from('41', 'hex'))).toEqual({ text: '', malformed: 'odd_length_ucs2' });
  });
});

describe('Latin-1', () => {
  it.each([
    ['café', '636166e9'],
    ['ÿ£§', 'ffa3a7'],
  ])('%j <-> %s', (text, hexBytes) => {
    expect(encodeLatin1(text)?.toString('hex')).toBe(hexBytes);
    expect(decodeLatin1(Buffer.from(hexBytes, 'hex'))).toBe(text);
  });

  it.each(['€', 'Ω', '😀'])('%j does not fit', (text) => {
    expect(encodeLatin1(text)).toBeUndefined();
  });
});

describe('IA5 / ASCII', () => {
  it('keeps _ and @ as themselves (never through the GSM table)', () => {
    expect(encodeAscii('a_b@c')?.toString('hex')).toBe('615f624063');
    expect(decodeAscii(Buffer.from('615f624063', 'hex'))).toEqual({ text: 'a_b@c' });
  });

  it('flags octets above 0x7F', () => {
    expect(decodeAscii(Buffer.from('636166e9', 'hex'))).toEqual({
      text: 'caf\ufffd',
      malformed: 'non_ascii_byte',
    });
  });

  it.each(['é', '€', '😀'])('%j does not fit', (text) => {
    expect(encodeAscii(text)).toBeUndefined();
  });
});
