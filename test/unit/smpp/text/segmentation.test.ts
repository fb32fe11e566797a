import { describe, expect, it } from 'vitest';
import {
  MAX_PARTS,
  countSegments,
  decodeText,
  parseUdh,
  splitText,
  type Concatenation,
  type DefaultAlphabet,
  type Part,
  type SplitResult,
} from '../../../../src/smpp/text/index.ts';

function partsOf(result: SplitResult): Part[] {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.reason}`);
  return result.parts;
}

const split = (text: string, concatenation: Concatenation = 'udh8', reference = 0x2a) =>
  splitText(text, { smscDefault: 'gsm7', concatenation, reference });

const a = (n: number): string => 'a'.repeat(n);
const zhe = (n: number): string => 'Ж'.repeat(n);

describe('splitText GSM 7-bit', () => {
  it('sends 160 septets as one part without UDH', () => {
    const result = split(a(160));
    expect(result).toMatchObject({ ok: true, dataCoding: 0, alphabet: 'gsm7' });
    const parts = partsOf(result);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toEqual({ shortMessage: Buffer.from(a(160), 'latin1'), udhi: false, text: a(160) });
  });

  it('splits 161 septets into 153 + 8 with an 8-bit UDH', () => {
    const parts = partsOf(split(a(161)));
    expect(parts.map((p) => p.text.length)).toEqual([153, 8]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([159, 14]);
    expect(parts.map((p) => p.udhi)).toEqual([true, true]);
    expect(parts[0]?.shortMessage.subarray(0, 6).toString('hex')).toBe('0500032a0201');
    expect(parts[1]?.shortMessage.subarray(0, 6).toString('hex')).toBe('0500032a0202');
    expect(parts[1]?.shortMessage.subarray(6).toString('hex')).toBe('61'.repeat(8));
  });

  it('counts extension characters as two septets for the single-part limit', () => {
    expect(partsOf(split(a(158) + '€'))).toHaveLength(1);
    expect(partsOf(split(a(159) + '€'))).toHaveLength(2);
  });

  it('moves an escape pair whole to the next part', () => {
    // 152 + 2 would be 154 > 153, so € starts part 2
    const parts = partsOf(split(a(152) + '€' + 'b'.repeat(10)));
    expect(parts.map((p) => p.text)).toEqual([a(152), '€' + 'b'.repeat(10)]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([6 + 152, 6 + 12]);
    expect(parts[0]?.shortMessage.at(-1)).toBe(0x61);
    expect(parts[1]?.shortMessage.subarray(6, 8).toString('hex')).toBe('1b65');
  });

  it('keeps an escape pair that ends exactly at 153', () => {
    const parts = partsOf(split(a(151) + '€' + 'b'.repeat(10)));
    expect(parts.map((p) => p.text)).toEqual([a(151) + '€', 'b'.repeat(10)]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([6 + 153, 6 + 10]);
    expect(parts[0]?.shortMessage.subarray(-2).toString('hex')).toBe('1b65');
  });

  it('uses a 7-octet 16-bit UDH and 152-septet parts for udh16', () => {
    const parts = partsOf(split(a(161), 'udh16', 0x1234));
    expect(parts.map((p) => p.text.length)).toEqual([152, 9]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([159, 16]);
    expect(parts[0]?.shortMessage.subarray(0, 7).toString('hex')).toBe('06080412340201');
    expect(parts[1]?.shortMessage.subarray(0, 7).toString('hex')).toBe('06080412340202');
  });

  it('gives sar parts no UDH and the TLV values', () => {
    const parts = partsOf(split(a(161), 'sar', 0x1234));
    expect(parts).toEqual([
      { shortMessage: Buffer.from(a(153)), udhi: false, sar: { reference: 0x1234, total: 2, seq: 1 }, text: a(153) },
      { shortMessage: Buffer.from(a(8)), udhi: false, sar: { reference: 0x1234, total: 2, seq: 2 }, text: a(8) },
    ]);
  });

  it('puts the whole text in message_payload in payload mode', () => {
    const text = a(300) + '€';
    const parts = partsOf(split(text, 'payload'));
    expect(parts).toHaveLength(1);
    expect(parts[0]?.shortMessage.length).toBe(0);
    expect(parts[0]?.udhi).toBe(false);
    expect(parts[0]?.payload?.length).toBe(302);
    expect(parts[0]?.payload?.subarray(-2).toString('hex')).toBe('1b65');
    expect(parts[0]?.text).toBe(text);
  });

  it('takes the reference modulo the header width', () => {
    expect(partsOf(split(a(161), 'udh8', 0x1ff))[0]?.shortMessage[3]).toBe(0xff);
    expect(partsOf(split(a(161), 'udh16', 0x12345))[0]?.shortMessage.subarray(3, 5).toString('hex')).toBe('2345');
  });
});

describe('splitText UCS-2', () => {
  it('sends 70 units as one part, 71 as 67 + 4', () => {
    const one = split(zhe(70));
    expect(one).toMatchObject({ ok: true, dataCoding: 8, alphabet: 'ucs2' });
    expect(partsOf(one).map((p) => p.shortMessage.length)).toEqual([140]);
    const two = partsOf(split(zhe(71)));
    expect(two.map((p) => p.text.length)).toEqual([67, 4]);
    expect(two.map((p) => p.shortMessage.length)).toEqual([6 + 134, 6 + 8]);
    expect(two[0]?.shortMessage.subarray(6, 8).toString('hex')).toBe('0416');
  });

  it('counts a surrogate pair as two units for the single-part limit', () => {
    expect(partsOf(split(zhe(68) + '😀'))).toHaveLength(1);
    expect(partsOf(split(zhe(69) + '😀')).map((p) => p.text)).toEqual([zhe(67), zhe(2) + '😀']);
    expect(partsOf(split(zhe(69) + '😀', 'payload'))).toHaveLength(1);
  });

  it('moves a surrogate pair whole to the next part', () => {
    // 66 + 2 would be 68 > 67
    const parts = partsOf(split(zhe(66) + '😀' + zhe(5)));
    expect(parts.map((p) => p.text)).toEqual([zhe(66), '😀' + zhe(5)]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([6 + 132, 6 + 14]);
    expect(parts[1]?.shortMessage.subarray(6, 10).toString('hex')).toBe('d83dde00');
  });

  it('keeps a surrogate pair that ends exactly at 67', () => {
    const parts = partsOf(split(zhe(65) + '😀' + zhe(5)));
    expect(parts.map((p) => p.text)).toEqual([zhe(65) + '😀', zhe(5)]);
    expect(parts[0]?.shortMessage.subarray(-4).toString('hex')).toBe('d83dde00');
  });

  it('uses 66-unit parts for udh16', () => {
    const parts = partsOf(split(zhe(71), 'udh16', 7));
    expect(parts.map((p) => p.text.length)).toEqual([66, 5]);
    expect(parts.map((p) => p.shortMessage.length)).toEqual([7 + 132, 7 + 10]);
  });

  it('sends a GSM text with one emoji entirely as UCS-2', () => {
    const result = split('Hello 😀');
    expect(result).toMatchObject({ ok: true, dataCoding: 8, alphabet: 'ucs2' });
    expect(partsOf(result)[0]?.shortMessage.toString('hex')).toBe('00480065006c006c006f0020d83dde00');
  });
});

describe('splitText 8-bit default alphabets', () => {
  it.each<[DefaultAlphabet, string]>([
    ['latin1', 'é'],
    ['ascii', '_'],
  ])('%s: 140 octets single, then 134 per part', (smscDefault, char) => {
    const one = splitText(char.repeat(140), { smscDefault, concatenation: 'udh8', reference: 1 });
    expect(one).toMatchObject({ ok: true, dataCoding: 0, alphabet: smscDefault });
    expect(partsOf(one).map((p) => p.shortMessage.length)).toEqual([140]);
    const two = splitText(char.repeat(141), { smscDefault, concatenation: 'udh8', reference: 1 });
    expect(partsOf(two).map((p) => p.text.length)).toEqual([134, 7]);
    const sixteen = splitText(char.repeat(141), { smscDefault, concatenation: 'udh16', reference: 1 });
    expect(partsOf(sixteen).map((p) => p.text.length)).toEqual([133, 8]);
  });

  it('encodes _ as 0x5F under an ASCII default', () => {
    const parts = partsOf(splitText('a_b', { smscDefault: 'ascii', concatenation: 'udh8', reference: 1 }));
    expect(parts[0]?.shortMessage.toString('hex')).toBe('615f62');
  });
});

describe('splitText limits', () => {
  it.each<[string, Concatenation, string]>([
    ['GSM udh8', 'udh8', a(153 * 255)],
    ['GSM sar', 'sar', a(153 * 255)],
    ['GSM udh16', 'udh16', a(152 * 255)],
    ['UCS-2 udh8', 'udh8', zhe(67 * 255)],
    ['UCS-2 udh16', 'udh16', zhe(66 * 255)],
  ])('%s: exactly 255 parts is ok', (_label, concatenation, text) => {
    const parts = partsOf(split(text, concatenation));
    expect(parts).toHaveLength(MAX_PARTS);
    expect(parts.at(-1)?.udhi).toBe(concatenation !== 'sar');
  });

  it.each<[string, Concatenation, string]>([
    ['GSM udh8', 'udh8', a(153 * 255 + 1)],
    ['GSM sar', 'sar', a(153 * 255 + 1)],
    ['GSM payload', 'payload', a(153 * 255 + 1)],
    ['GSM udh16', 'udh16', a(152 * 255 + 1)],
    ['UCS-2 udh8', 'udh8', zhe(67 * 255 + 1)],
  ])('%s: 256 parts is too_many_parts', (_label, concatenation, text) => {
    const result = split(text, concatenation);
    expect(result).toMatchObject({ ok: false, code: 'too_many_parts' });
    expect(result.ok ? '' : result.reason).toContain('256');
  });

  it('rejects empty text', () => {
    expect(split('')).toMatchObject({ ok: false, code: 'empty_text' });
  });

  it.each([-1, 1.5, Number.NaN])('rejects reference %s', (reference) => {
    expect(split('hi', 'udh8', reference)).toMatchObject({ ok: false, code: 'invalid_reference' });
  });
});

describe('splitText parts reassemble to the original text', () => {
  it.each<[string, string, Concatenation]>([
    ['GSM with extensions', ('Price {EUR} 5€ | [ok] ~ ^\\ ' + a(7)).repeat(12), 'udh8'],
    ['mixed scripts with emoji', 'Hello Мир 世界 👋🏽 ok '.repeat(20), 'udh8'],
    ['mixed scripts with emoji, udh16', 'Γειά σου 😀 '.repeat(25), 'udh16'],
  ])('%s', (_label, text, concatenation) => {
    const result = split(text, concatenation);
    if (!result.ok) throw new Error(result.reason);
    expect(result.parts.length).toBeGreaterThan(1);
    const bodies = result.parts.map((part, index) => {
      const udh = parseUdh(part.shortMessage);
      if (!udh.ok) throw new Error(udh.reason);
      expect(udh.concat).toMatchObject({ total: result.parts.length, seq: index + 1 });
      return udh.payload;
    });
    expect(result.parts.map((p) => p.text).join('')).toBe(text);
    expect(decodeText(Buffer.concat(bodies), result.dataCoding, 'gsm7')).toEqual({
      ok: true,
      text,
      alphabet: result.alphabet,
    });
  });
});

describe('countSegments (billing counts)', () => {
  it.each<[string, string, DefaultAlphabet, number]>([
    ['empty', '', 'gsm7', 0],
    ['160 GSM', a(160), 'gsm7', 1],
    ['161 GSM', a(161), 'gsm7', 2],
    ['306 GSM', a(306), 'gsm7', 2],
    ['307 GSM', a(307), 'gsm7', 3],
    ['154 septets with an extension char', a(152) + '€', 'gsm7', 1],
    ['escape pair pushed over a boundary', a(152) + '€' + a(153), 'gsm7', 3],
    ['one emoji', '😀', 'gsm7', 1],
    ['70 UCS-2', zhe(70), 'gsm7', 1],
    ['70 UCS-2 units ending in a surrogate pair', zhe(68) + '😀', 'gsm7', 1],
    ['71 UCS-2 units ending in a surrogate pair', zhe(69) + '😀', 'gsm7', 2],
    ['160 septets ending in an extension char', a(158) + '€', 'gsm7', 1],
    ['161 septets ending in an extension char', a(159) + '€', 'gsm7', 2],
    ['71 UCS-2', zhe(71), 'gsm7', 2],
    ['134 UCS-2', zhe(134), 'gsm7', 2],
    ['135 UCS-2', zhe(135), 'gsm7', 3],
    ['140 Latin-1', 'é'.repeat(140), 'latin1', 1],
    ['141 Latin-1', 'é'.repeat(141), 'latin1', 2],
    ['é under ASCII goes UCS-2', 'é'.repeat(71), 'ascii', 2],
    ['256 parts is reported, not capped', a(153 * 256), 'gsm7', 256],
  ])('%s -> %i', (_label, text, smscDefault, expected) => {
    expect(countSegments(text, smscDefault)).toBe(expected);
  });
});
