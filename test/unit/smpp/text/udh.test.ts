import { describe, expect, it } from 'vitest';
import { ParleyError } from '../../../../src/lib/errors.ts';
import { buildConcatUdh, parseUdh } from '../../../../src/smpp/text/index.ts';

const bytes = (hexBytes: string): Buffer => Buffer.from(hexBytes.replace(/ /g, ''), 'hex');

describe('buildConcatUdh', () => {
  it.each<[number, number, number, 8 | 16, string]>([
    [0x42, 3, 1, 8, '050003420301'],
    [0xff, 255, 255, 8, '050003ffffff'],
    [0xabcd, 3, 2, 16, '060804abcd0302'],
    [0x0001, 2, 2, 16, '06080400010202'],
  ])('ref %i total %i seq %i (%i-bit) -> %s', (ref, total, seq, bits, expected) => {
    expect(buildConcatUdh(ref, total, seq, bits).toString('hex')).toBe(expected);
  });

  it.each<[number, number, number, 8 | 16, string]>([
    [256, 2, 1, 8, 'invalid_concat_reference'],
    [0x10000, 2, 1, 16, 'invalid_concat_reference'],
    [-1, 2, 1, 8, 'invalid_concat_reference'],
    [1, 0, 1, 8, 'invalid_concat_total'],
    [1, 256, 1, 8, 'invalid_concat_total'],
    [1, 2, 0, 8, 'invalid_concat_seq'],
    [1, 2, 3, 8, 'invalid_concat_seq'],
  ])('rejects ref %i total %i seq %i (%i-bit) as a programmer error', (ref, total, seq, bits, code) => {
    expect(() => buildConcatUdh(ref, total, seq, bits)).toThrow(ParleyError);
    expect(() => buildConcatUdh(ref, total, seq, bits)).toThrow(expect.objectContaining({ code }));
  });
});

describe('parseUdh', () => {
  it('reads an 8-bit concatenation header', () => {
    const parsed = parseUdh(bytes('05 00 03 42 03 02 48 69'));
    expect(parsed).toEqual({
      ok: true,
      elements: [{ iei: 0x00, data: bytes('42 03 02') }],
      payload: bytes('48 69'),
      concat: { reference: 0x42, total: 3, seq: 2, referenceBits: 8 },
    });
  });

  it('reads a 16-bit concatenation header', () => {
    const parsed = parseUdh(bytes('06 08 04 ab cd 02 01 00 48'));
    expect(parsed).toEqual({
      ok: true,
      elements: [{ iei: 0x08, data: bytes('ab cd 02 01') }],
      payload: bytes('00 48'),
      concat: { reference: 0xabcd, total: 2, seq: 1, referenceBits: 16 },
    });
  });

  it('reads several elements (port addressing + concatenation)', () => {
    const parsed = parseUdh(bytes('0b 05 04 0b 84 23 f0 00 03 12 02 01 ff'));
    expect(parsed).toEqual({
      ok: true,
      elements: [
        { iei: 0x05, data: bytes('0b 84 23 f0') },
        { iei: 0x00, data: bytes('12 02 01') },
      ],
      payload: bytes('ff'),
      concat: { reference: 0x12, total: 2, seq: 1, referenceBits: 8 },
    });
  });

  it('accepts an empty header', () => {
    expect(parseUdh(bytes('00 41'))).toEqual({ ok: true, elements: [], payload: bytes('41') });
  });

  it.each([
    ['seq 0', '05 00 03 01 02 00'],
    ['seq above total', '05 00 03 01 02 03'],
    ['total 0', '05 00 03 01 00 00'],
    ['wrong IE length', '04 00 02 01 02'],
  ])('ignores a concatenation IE with %s, as 23.040 requires', (_label, hexBytes) => {
    const parsed = parseUdh(bytes(hexBytes));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.concat).toBeUndefined();
    expect(parsed.elements).toHaveLength(1);
  });

  it.each([
    ['empty short_message', '', 'udh_missing'],
    ['UDHL past the data', '05 00 03 01', 'udhl_past_end'],
    ['UDHL past the data by one', '05 00 03 01 02', 'udhl_past_end'],
    ['IE data past the header end', '05 00 05 01 02 03', 'ie_past_end'],
    ['IE header cut by the UDHL', '01 00 41', 'ie_header_truncated'],
  ])('flags %s', (_label, hexBytes, code) => {
    const parsed = parseUdh(bytes(hexBytes));
    expect(parsed).toMatchObject({ ok: false, code });
    expect(parsed.ok ? '' : parsed.reason).not.toBe('');
  });
});
