import { describe, expect, it } from 'vitest';
import {
  decodeText,
  describeDataCoding,
  type DataCodingInfo,
  type DefaultAlphabet,
} from '../../../../src/smpp/text/index.ts';

describe('describeDataCoding', () => {
  it.each<[number, DefaultAlphabet, DataCodingInfo]>([
    [0x00, 'gsm7', { alphabet: 'gsm7' }],
    [0x00, 'ascii', { alphabet: 'ascii' }],
    [0x00, 'latin1', { alphabet: 'latin1' }],
    [0x01, 'gsm7', { alphabet: 'ascii' }],
    [0x02, 'gsm7', { alphabet: 'binary' }],
    [0x03, 'gsm7', { alphabet: 'latin1' }],
    [0x04, 'gsm7', { alphabet: 'binary' }],
    [0x05, 'gsm7', { alphabet: 'unsupported' }],
    [0x06, 'gsm7', { alphabet: 'unsupported' }],
    [0x07, 'gsm7', { alphabet: 'unsupported' }],
    [0x08, 'gsm7', { alphabet: 'ucs2' }],
    [0x09, 'gsm7', { alphabet: 'unsupported' }],
    [0x0a, 'gsm7', { alphabet: 'unsupported' }],
    [0x0d, 'gsm7', { alphabet: 'unsupported' }],
    [0x0e, 'gsm7', { alphabet: 'unsupported' }],
    [0x0f, 'gsm7', { alphabet: 'unsupported' }],
    // general data coding group
    [0x10, 'latin1', { alphabet: 'gsm7', messageClass: 0 }],
    [0x11, 'ascii', { alphabet: 'gsm7', messageClass: 1 }],
    [0x14, 'gsm7', { alphabet: 'binary', messageClass: 0 }],
    [0x16, 'gsm7', { alphabet: 'binary', messageClass: 2 }],
    [0x18, 'gsm7', { alphabet: 'ucs2', messageClass: 0 }],
    [0x1b, 'gsm7', { alphabet: 'ucs2', messageClass: 3 }],
    [0x1c, 'gsm7', { alphabet: 'unsupported', messageClass: 0 }],
    [0x20, 'gsm7', { alphabet: 'gsm7', compressed: true }],
    [0x39, 'gsm7', { alphabet: 'ucs2', compressed: true, messageClass: 1 }],
    // automatic deletion group has the same layout
    [0x48, 'gsm7', { alphabet: 'ucs2' }],
    [0x80, 'gsm7', { alphabet: 'unsupported' }],
    [0xbf, 'gsm7', { alphabet: 'unsupported' }],
    // message waiting indication groups
    [0xc0, 'ascii', { alphabet: 'gsm7', messageWaiting: 'discard' }],
    [0xd8, 'gsm7', { alphabet: 'gsm7', messageWaiting: 'store' }],
    [0xe0, 'gsm7', { alphabet: 'ucs2', messageWaiting: 'store' }],
    // data coding / message class group
    [0xf0, 'latin1', { alphabet: 'gsm7', messageClass: 0 }],
    [0xf1, 'gsm7', { alphabet: 'gsm7', messageClass: 1 }],
    [0xf4, 'gsm7', { alphabet: 'binary', messageClass: 0 }],
    [0xf6, 'gsm7', { alphabet: 'binary', messageClass: 2 }],
    // not an octet
    [0x100, 'gsm7', { alphabet: 'unsupported' }],
    [-1, 'gsm7', { alphabet: 'unsupported' }],
  ])('data_coding %i with default %s', (dc, smscDefault, expected) => {
    expect(describeDataCoding(dc, smscDefault)).toEqual(expected);
  });
});

describe('decodeText', () => {
  it.each<[string, string, number, DefaultAlphabet, string]>([
    ['GSM default: 0x11 is _', '11', 0x00, 'gsm7', '_'],
    ['GSM default: 0x00 is @', '00', 0x00, 'gsm7', '@'],
    ['ASCII default: 0x5F is _', '5f', 0x00, 'ascii', '_'],
    ['Latin-1 default', '636166e9', 0x00, 'latin1', 'café'],
    ['IA5 _ stays _ (not the GSM table)', '5f', 0x01, 'gsm7', '_'],
    ['IA5 @ is 0x40, not 0x00', '40', 0x01, 'gsm7', '@'],
    ['IA5 0x11 is a control code, not _', '11', 0x01, 'gsm7', '\u0011'],
    ['Latin-1', 'e9', 0x03, 'gsm7', 'é'],
    ['UCS-2 with an emoji', '00480069d83dde00', 0x08, 'gsm7', 'Hi😀'],
    ['general group GSM7 class 1', '48691b65', 0x11, 'ascii', 'Hi€'],
    ['general group UCS2', '041f', 0x18, 'gsm7', 'П'],
    ['message waiting UCS2', '041f', 0xe0, 'gsm7', 'П'],
    ['class group GSM7', '11', 0xf0, 'latin1', '_'],
  ])('%s', (_label, bytes, dc, smscDefault, text) => {
    const decoded = decodeText(Buffer.from(bytes, 'hex'), dc, smscDefault);
    expect(decoded).toMatchObject({ ok: true, text });
  });

  it.each<[string, string, number, DefaultAlphabet, string, string]>([
    ['odd-length UCS-2', '004800', 0x08, 'gsm7', 'odd_length_ucs2', 'H'],
    ['IA5 octet above 0x7F', '636166e9', 0x01, 'gsm7', 'non_ascii_byte', 'caf\ufffd'],
    ['ASCII default octet above 0x7F', 'e9', 0x00, 'ascii', 'non_ascii_byte', '\ufffd'],
    ['GSM octet above 0x7F', '41c1', 0x00, 'gsm7', 'gsm7_septet_out_of_range', 'A\ufffd'],
    ['binary dc 2', '0102', 0x02, 'gsm7', 'binary_data', ''],
    ['binary dc 4', '0102', 0x04, 'gsm7', 'binary_data', ''],
    ['8-bit class group', '0102', 0xf4, 'gsm7', 'binary_data', ''],
    ['Cyrillic dc 6', 'b0', 0x06, 'gsm7', 'unsupported_data_coding', ''],
    ['compressed', '0102', 0x20, 'gsm7', 'compressed_text', ''],
  ])('%s is flagged', (_label, bytes, dc, smscDefault, code, text) => {
    const decoded = decodeText(Buffer.from(bytes, 'hex'), dc, smscDefault);
    expect(decoded).toMatchObject({ ok: false, code, text });
    expect(decoded.ok ? '' : decoded.reason).not.toBe('');
  });
});
