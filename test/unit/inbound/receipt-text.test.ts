import { describe, expect, it } from 'vitest';
import {
  MESSAGE_STATE_VALUES,
  isFinalReceiptState,
  mapReceiptState,
  parseReceipt,
  parseReceiptDate,
  receiptStateOfStat,
  type ReceiptInput,
  type ReceiptState,
} from '../../../src/inbound/receipt-text.ts';
import { splitFields, type ReceiptFields } from '../../../src/inbound/receipt-fields.ts';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s = 0): Date => new Date(Date.UTC(y, mo - 1, d, h, mi, s));

interface Row {
  readonly name: string;
  readonly input: ReceiptInput;
  readonly expected: ReturnType<typeof parseReceipt>;
}

/** Receipt texts in the styles carriers send, each with its exact parse. */
const FIXTURES: readonly Row[] = [
  {
    name: 'SMPP 3.4 Appendix B, as written',
    input: {
      text: 'id:0123456789 sub:001 dlvrd:001 submit date:2301311205 done date:2301311206 stat:DELIVRD err:000 text:Hello world',
    },
    expected: {
      ok: true,
      smscMessageId: '0123456789',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 1, 31, 12, 5),
      doneDate: utc(2023, 1, 31, 12, 6),
      submitted: 1,
      delivered: 1,
      errorCode: '000',
      text: 'Hello world',
      extra: {},
    },
  },
  {
    name: 'upper-case keys and values, hex id, leap day',
    input: { text: 'ID:ABCDEF12 SUB:001 DLVRD:000 SUBMIT DATE:2402291530 DONE DATE:2402291531 STAT:UNDELIV ERR:001 TEXT:Leap day' },
    expected: {
      ok: true,
      smscMessageId: 'ABCDEF12',
      state: 'UNDELIVERABLE',
      final: true,
      submitDate: utc(2024, 2, 29, 15, 30),
      doneDate: utc(2024, 2, 29, 15, 31),
      submitted: 1,
      delivered: 0,
      errorCode: '001',
      text: 'Leap day',
      extra: {},
    },
  },
  {
    name: 'no sub:, dlvrd: or text:, single-digit err',
    input: { text: 'id:5521 submit date:2305010000 done date:2305010001 stat:DELIVRD err:0' },
    expected: {
      ok: true,
      smscMessageId: '5521',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 5, 1, 0, 0),
      doneDate: utc(2023, 5, 1, 0, 1),
      errorCode: '0',
      extra: {},
    },
  },
  {
    name: 'fields reordered',
    input: { text: 'stat:EXPIRED err:027 id:77889900 done date:2306302359 submit date:2306290000 dlvrd:000 sub:001' },
    expected: {
      ok: true,
      smscMessageId: '77889900',
      state: 'EXPIRED',
      final: true,
      submitDate: utc(2023, 6, 29, 0, 0),
      doneDate: utc(2023, 6, 30, 23, 59),
      submitted: 1,
      delivered: 0,
      errorCode: '027',
      extra: {},
    },
  },
  {
    name: '12-digit dates with seconds across a year end, empty text',
    input: { text: 'id:a1b2c3 sub:001 dlvrd:001 submit date:231231235959 done date:240101000001 stat:DELIVRD err:000 text:' },
    expected: {
      ok: true,
      smscMessageId: 'a1b2c3',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 12, 31, 23, 59, 59),
      doneDate: utc(2024, 1, 1, 0, 0, 1),
      submitted: 1,
      delivered: 1,
      errorCode: '000',
      text: '',
      extra: {},
    },
  },
  {
    name: 'long state name stat:DELIVERED',
    input: { text: 'id:1 sub:1 dlvrd:1 submit date:2301010000 done date:2301010001 stat:DELIVERED err:0 text:x' },
    expected: {
      ok: true,
      smscMessageId: '1',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 0, 1),
      submitted: 1,
      delivered: 1,
      errorCode: '0',
      text: 'x',
      extra: {},
    },
  },
  {
    name: 'REJECTD with a hex err:0x0B',
    input: { text: 'id:998877 sub:001 dlvrd:000 submit date:2301010000 done date:2301010000 stat:REJECTD err:0x0B text:Promo' },
    expected: {
      ok: true,
      smscMessageId: '998877',
      state: 'REJECTED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 0, 0),
      submitted: 1,
      delivered: 0,
      errorCode: '0x0B',
      text: 'Promo',
      extra: {},
    },
  },
  {
    name: 'extra fields mcc:, mnc:, imsi:, dest: before text:',
    input: {
      text: 'id:3F2A sub:001 dlvrd:001 submit date:2301010000 done date:2301010002 stat:DELIVRD err:000 mcc:234 mnc:15 imsi:234150000000001 dest:447700900123 text:Hi',
    },
    expected: {
      ok: true,
      smscMessageId: '3F2A',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 0, 2),
      submitted: 1,
      delivered: 1,
      errorCode: '000',
      text: 'Hi',
      extra: { mcc: '234', mnc: '15', imsi: '234150000000001', dest: '447700900123' },
    },
  },
  {
    name: 'Kannel-relayed style: UUID id, text cut at 20 characters',
    input: {
      text: 'id:2f6a3c1e-6b1d-4f4e-9d7e-5c1a2b3c4d5e sub:001 dlvrd:001 submit date:2310051200 done date:2310051201 stat:DELIVRD err:000 text:Your code is 482913 ',
    },
    expected: {
      ok: true,
      smscMessageId: '2f6a3c1e-6b1d-4f4e-9d7e-5c1a2b3c4d5e',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 10, 5, 12, 0),
      doneDate: utc(2023, 10, 5, 12, 1),
      submitted: 1,
      delivered: 1,
      errorCode: '000',
      text: 'Your code is 482913',
      extra: {},
    },
  },
  {
    name: 'Jasmin-relayed style: dashed id, ACCEPTD (intermediate), sub/dlvrd after the dates',
    input: { text: 'id:1101C1-C9D03D-F000 submit date:2010290238 done date:2010290238 stat:ACCEPTD err:000 sub:000 dlvrd:000 text:' },
    expected: {
      ok: true,
      smscMessageId: '1101C1-C9D03D-F000',
      state: 'ACCEPTED',
      final: false,
      submitDate: utc(2020, 10, 29, 2, 38),
      doneDate: utc(2020, 10, 29, 2, 38),
      submitted: 0,
      delivered: 0,
      errorCode: '000',
      text: '',
      extra: {},
    },
  },
  {
    name: 'Vonage style: decimal id of a hex response, text:none with a trailing space',
    input: { text: 'id:281605133 sub:001 dlvrd:000 submit date:2401151030 done date:2401151031 stat:UNDELIV err:001 text:none ' },
    expected: {
      ok: true,
      smscMessageId: '281605133',
      state: 'UNDELIVERABLE',
      final: true,
      submitDate: utc(2024, 1, 15, 10, 30),
      doneDate: utc(2024, 1, 15, 10, 31),
      submitted: 1,
      delivered: 0,
      errorCode: '001',
      text: 'none',
      extra: {},
    },
  },
  {
    name: 'Twilio-like: SM-prefixed id, lower-case long state',
    input: {
      text: 'id:SM1f0e8a5c4b3d2e1f0a9b8c7d6e5f4a3b sub:001 dlvrd:001 submit date:2403011200 done date:2403011201 stat:delivered err:0 text:Your verification',
    },
    expected: {
      ok: true,
      smscMessageId: 'SM1f0e8a5c4b3d2e1f0a9b8c7d6e5f4a3b',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2024, 3, 1, 12, 0),
      doneDate: utc(2024, 3, 1, 12, 1),
      submitted: 1,
      delivered: 1,
      errorCode: '0',
      text: 'Your verification',
      extra: {},
    },
  },
  {
    name: 'Asian-carrier style: underscored keys, 12-digit dates, BUFFRED, Text: capitalised',
    input: { text: 'id:0000012345 sub:001 dlvrd:000 submit_date:240315093000 done_date:240315093005 stat:BUFFRED err:000 Text:您好' },
    expected: {
      ok: true,
      smscMessageId: '0000012345',
      state: 'ENROUTE',
      final: false,
      submitDate: utc(2024, 3, 15, 9, 30, 0),
      doneDate: utc(2024, 3, 15, 9, 30, 5),
      submitted: 1,
      delivered: 0,
      errorCode: '000',
      text: '您好',
      extra: {},
    },
  },
  {
    name: 'submitdate/donedate run together, CamelCase',
    input: { text: 'id:778 SubmitDate:2301010000 DoneDate:2301010100 stat:EXPIRED err:0' },
    expected: {
      ok: true,
      smscMessageId: '778',
      state: 'EXPIRED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 1, 0),
      errorCode: '0',
      extra: {},
    },
  },
  {
    name: 'text with colons and key-like words runs to the end',
    input: { text: 'id:42 sub:001 dlvrd:001 submit date:2301010000 done date:2301010000 stat:DELIVRD err:000 text:Meet at 10:30 re: order id:55 stat:X' },
    expected: {
      ok: true,
      smscMessageId: '42',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 0, 0),
      submitted: 1,
      delivered: 1,
      errorCode: '000',
      text: 'Meet at 10:30 re: order id:55 stat:X',
      extra: {},
    },
  },
  {
    name: 'TLVs only: empty text, receipted_message_id and message_state',
    input: { text: '', receiptedMessageId: '0A1B2C', messageState: 2 },
    expected: { ok: true, smscMessageId: '0A1B2C', state: 'DELIVERED', final: true, extra: {} },
  },
  {
    name: 'TLVs override a conflicting text; network_error_code kept, err: from the text',
    input: {
      text: 'id:111 sub:001 dlvrd:000 submit date:2301010000 done date:2301010005 stat:UNDELIV err:005 text:hi',
      receiptedMessageId: '222',
      messageState: 2,
      networkErrorCode: { networkType: 3, errorCode: 0 },
    },
    expected: {
      ok: true,
      smscMessageId: '222',
      state: 'DELIVERED',
      final: true,
      submitDate: utc(2023, 1, 1, 0, 0),
      doneDate: utc(2023, 1, 1, 0, 5),
      submitted: 1,
      delivered: 0,
      errorCode: '005',
      networkError: { networkType: 3, errorCode: 0 },
      text: 'hi',
      extra: {},
    },
  },
  {
    name: 'receipted_message_id with a NUL and message_state SKIPPED (SMPP 5.0)',
    input: { text: '', receiptedMessageId: 'abc\0', messageState: 9 },
    expected: { ok: true, smscMessageId: 'abc', state: 'SKIPPED', final: true, extra: {} },
  },
  {
    name: 'message_state SCHEDULED (0) is intermediate',
    input: { text: 'id:5 stat:DELIVRD', messageState: 0 },
    expected: { ok: true, smscMessageId: '5', state: 'SCHEDULED', final: false, extra: {} },
  },
  {
    name: 'message_state out of range: the text stat: is used',
    input: { text: 'id:5 stat:DELETED err:000', messageState: 42 },
    expected: { ok: true, smscMessageId: '5', state: 'DELETED', final: true, errorCode: '000', extra: {} },
  },
  {
    name: 'receipted_message_id only, state from the text',
    input: { text: 'sub:001 dlvrd:001 stat:DELIVRD err:000', receiptedMessageId: '9F' },
    expected: { ok: true, smscMessageId: '9F', state: 'DELIVERED', final: true, submitted: 1, delivered: 1, errorCode: '000', extra: {} },
  },
  {
    name: 'FAILED is undeliverable; err: with hex letters',
    input: { text: 'id:9 stat:FAILED err:B1' },
    expected: { ok: true, smscMessageId: '9', state: 'UNDELIVERABLE', final: true, errorCode: 'B1', extra: {} },
  },
  {
    name: 'UNDELIVR is undeliverable',
    input: { text: 'id:10 sub:001 dlvrd:000 stat:UNDELIVR err:069' },
    expected: { ok: true, smscMessageId: '10', state: 'UNDELIVERABLE', final: true, submitted: 1, delivered: 0, errorCode: '069', extra: {} },
  },
  {
    name: 'spaces around colons, comma separators, ENROUTE',
    input: { text: 'id : 123, sub : 001, stat : ENROUTE, err : 000' },
    expected: { ok: true, smscMessageId: '123', state: 'ENROUTE', final: false, submitted: 1, errorCode: '000', extra: {} },
  },
  {
    name: 'dates with separators and a four-digit year',
    input: { text: 'id:77 submit date:2024-03-15 09:30:00 done date:24/03/15 09:31 stat:UNKNOWN err:000' },
    expected: {
      ok: true,
      smscMessageId: '77',
      state: 'UNKNOWN',
      final: true,
      submitDate: utc(2024, 3, 15, 9, 30, 0),
      doneDate: utc(2024, 3, 15, 9, 31),
      errorCode: '000',
      extra: {},
    },
  },
  {
    name: 'impossible dates are left out',
    input: { text: 'id:78 submit date:2313010000 done date:2302300000 stat:DELIVRD' },
    expected: { ok: true, smscMessageId: '78', state: 'DELIVERED', final: true, extra: {} },
  },
  {
    name: 'a repeated key: the first wins; an empty err: is left out',
    input: { text: 'id:1 stat:DELIVRD err: id:2 stat:UNDELIV' },
    expected: { ok: true, smscMessageId: '1', state: 'DELIVERED', final: true, extra: {} },
  },
  {
    name: 'a field named like an Object.prototype member is just an extra field',
    input: { text: 'id:1 stat:DELIVRD constructor:x toString:y' },
    expected: { ok: true, smscMessageId: '1', state: 'DELIVERED', final: true, extra: { constructor: 'x', tostring: 'y' } },
  },
  {
    name: 'text: keeps its own punctuation; NUL padding dropped',
    input: { text: 'id:55 stat:DELIVRD err:000 text:See you then; ok,\0\0' },
    expected: { ok: true, smscMessageId: '55', state: 'DELIVERED', final: true, errorCode: '000', text: 'See you then; ok,', extra: {} },
  },
  {
    name: 'garbage text, no TLVs',
    input: { text: 'Thanks, see you at 5' },
    expected: { ok: false, reason: 'no message id: no receipted_message_id TLV and no id: field in the text' },
  },
  {
    name: 'empty text, no TLVs',
    input: { text: '' },
    expected: { ok: false, reason: 'no message id: no receipted_message_id TLV and no id: field in the text' },
  },
  {
    name: 'an id but no state',
    input: { text: 'id:12345 sub:001 dlvrd:001 err:000' },
    expected: { ok: false, reason: 'no state: no message_state TLV and no stat: field in the text' },
  },
  {
    name: 'an id, an out-of-range message_state and no stat:',
    input: { text: '', receiptedMessageId: '1', messageState: 12 },
    expected: { ok: false, reason: 'no state: message_state 12 is not 0..9 and no stat: field in the text' },
  },
  {
    name: 'a stat: nobody defined',
    input: { text: 'id:12345 stat:DONE err:000' },
    expected: { ok: false, reason: 'unrecognised stat: "DONE"' },
  },
];

describe('parseReceipt', () => {
  it('has a fixture table of at least 20 carrier styles', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(20);
  });
  it.each(FIXTURES.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    expect(parseReceipt(row.input)).toStrictEqual(row.expected);
  });
});

describe('receiptStateOfStat', () => {
  const table: [string, ReceiptState][] = [
    ['DELIVRD', 'DELIVERED'],
    ['delivrd', 'DELIVERED'],
    ['DELIVERED', 'DELIVERED'],
    ['EXPIRED', 'EXPIRED'],
    ['DELETED', 'DELETED'],
    ['UNDELIV', 'UNDELIVERABLE'],
    ['UNDELIVERABLE', 'UNDELIVERABLE'],
    ['UNDELIVR', 'UNDELIVERABLE'],
    ['FAILED', 'UNDELIVERABLE'],
    ['ACCEPTD', 'ACCEPTED'],
    ['ACCEPTED', 'ACCEPTED'],
    ['UNKNOWN', 'UNKNOWN'],
    ['REJECTD', 'REJECTED'],
    ['Rejected', 'REJECTED'],
    ['ENROUTE', 'ENROUTE'],
    ['BUFFRED', 'ENROUTE'],
    ['SKIPPED', 'SKIPPED'],
    ['SCHEDULED', 'SCHEDULED'],
    ['2', 'DELIVERED'],
    ['5', 'UNDELIVERABLE'],
  ];
  it.each(table)('%s -> %s', (stat, state) => {
    expect(receiptStateOfStat(stat)).toBe(state);
  });
  it.each(['', 'DONE', 'DELIV', '10', 'constructor'])('%j is not a state', (stat) => {
    expect(receiptStateOfStat(stat)).toBeUndefined();
  });
});

describe('message_state values', () => {
  it('follow SMPP 3.4 5.2.28 (1..8) and SMPP 5.0 (0, 9)', () => {
    expect(MESSAGE_STATE_VALUES).toEqual([
      'SCHEDULED',
      'ENROUTE',
      'DELIVERED',
      'EXPIRED',
      'DELETED',
      'UNDELIVERABLE',
      'ACCEPTED',
      'UNKNOWN',
      'REJECTED',
      'SKIPPED',
    ]);
  });
});

describe('mapReceiptState and isFinalReceiptState', () => {
  const table: [ReceiptState, ReturnType<typeof mapReceiptState>, boolean][] = [
    ['DELIVERED', 'delivered', true],
    ['UNDELIVERABLE', 'undeliverable', true],
    ['DELETED', 'undeliverable', true],
    ['SKIPPED', 'undeliverable', true],
    ['EXPIRED', 'expired', true],
    ['REJECTED', 'rejected', true],
    ['UNKNOWN', 'unknown', true],
    ['ENROUTE', undefined, false],
    ['ACCEPTED', undefined, false],
    ['SCHEDULED', undefined, false],
  ];
  it.each(table)('%s -> %s, final %s', (state, status, final) => {
    expect(mapReceiptState(state)).toBe(status);
    expect(isFinalReceiptState(state)).toBe(final);
  });
  it('covers every state', () => {
    expect(new Set(table.map(([s]) => s))).toEqual(new Set(MESSAGE_STATE_VALUES));
  });
});

describe('parseReceiptDate', () => {
  const table: [string, Date | undefined][] = [
    ['2301311205', utc(2023, 1, 31, 12, 5)],
    ['230131120559', utc(2023, 1, 31, 12, 5, 59)],
    ['20230131120559', utc(2023, 1, 31, 12, 5, 59)],
    ['2023-01-31 12:05:59', utc(2023, 1, 31, 12, 5, 59)],
    ['2023-01-31T12:05:59', utc(2023, 1, 31, 12, 5, 59)],
    ['0001010000', utc(2000, 1, 1, 0, 0)],
    ['2302290000', undefined],
    ['2400011200', undefined],
    ['2401012400', undefined],
    ['2401011260', undefined],
    ['240101', undefined],
    ['24010112000', undefined],
    ['yesterday', undefined],
    ['', undefined],
  ];
  it.each(table)('%j -> %s', (raw, date) => {
    expect(parseReceiptDate(raw)).toEqual(date);
  });
});

/** Repeatable random integers below n (mulberry32). */
function randomBelow(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe('splitFields reads keys by hand as the regular expression would', () => {
  // The expression and the splitting it did (receipt-text.ts documents it), kept here as the reference.
  const KEY = /(?<=^|[\s,;])(submit[ _-]?date|done[ _-]?date|[a-z][a-z0-9_-]*)\s*:/gi;
  const KNOWN: Record<string, string> = { id: 'id', sub: 'sub', dlvrd: 'dlvrd', submitdate: 'submitdate', donedate: 'donedate', stat: 'stat', status: 'stat', err: 'err', error: 'err', text: 'text' };
  function reference(text: string): ReceiptFields {
    const fields: ReceiptFields = { known: {}, extra: {} };
    const known = fields.known as Record<string, string>;
    const trim = (v: string, separators = true) => v.replace(separators ? /^[\s\0]+|[\s\0,;]+$/g : /^[\s\0]+|[\s\0]+$/g, '');
    const keys = [...text.matchAll(KEY)];
    for (let i = 0; i < keys.length; i++) {
      const lower = keys[i]![1]!.toLowerCase();
      const name = KNOWN[lower.replace(/[ _-]/g, '')];
      const start = keys[i]!.index + keys[i]![0].length;
      if (name === 'text') {
        known.text ??= trim(text.slice(start), false);
        break;
      }
      const value = trim(text.slice(start, keys[i + 1]?.index ?? text.length));
      if (name !== undefined) known[name] ??= value;
      else if (!Object.hasOwn(fields.extra, lower)) fields.extra[lower] = value;
    }
    return fields;
  }

  const PIECES = [
    'id:', 'ID :', 'Id\t:', 'sub:', 'dlvrd:', 'submit date:', 'Submit_Date:', 'SUBMIT-DATE :', 'submitdate:', 'submit  date:',
    'donedate:', 'done-date:', 'Done Date:', 'done datex:', 'submitdate-x:', 'stat:', 'Status:', 'err:', 'error:', 'text:',
    'mcc:', 'IMSI:', 'x-y:', 'a_1:', '1a:', '12:30', ' ', '  ', ',', ';', '\0', '\t', '\n', '\r', '\u00a0', '\u2003',
    '\u3000', '\ufeff', 'DELIVRD', 'undeliv', '2301311230', '23-01-31 12:30', '0', '001', 'abc', 'héllo', 'K', 'ſ',
    '😀', '"', '\\', 'T', '.', '/', '-', '_', ':', '::', '0A1B', '  id:xyz  ', 'submit', 'date', 'done', 'dat',
  ];

  it('on 20,000 texts made of keys, values, separators and odd characters', () => {
    const next = randomBelow(7);
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let k = 1 + next(12); k > 0; k--) text += PIECES[next(PIECES.length)];
      expect(splitFields(text), JSON.stringify(text)).toStrictEqual(reference(text));
    }
  });
});

describe('parseReceiptDate reads digits in place as the string-slicing version did', () => {
  function reference(raw: string): Date | undefined {
    if (!/^[0-9\s\-/:.T]+$/.test(raw)) return undefined;
    const digits = raw.replace(/[^0-9]/g, '');
    let year: number;
    let rest: string;
    if (digits.length === 10 || digits.length === 12) {
      year = 2000 + Number(digits.slice(0, 2));
      rest = digits.slice(2);
    } else if (digits.length === 14) {
      year = Number(digits.slice(0, 4));
      rest = digits.slice(4);
    } else {
      return undefined;
    }
    const two = (at: number): number => Number(rest.slice(at, at + 2) || '0');
    const [month, day, hour, minute, second] = [two(0), two(2), two(4), two(6), two(8)];
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
    return date;
  }

  it('on 20,000 strings of digits and separators, 9 to 16 digits long', () => {
    const next = randomBelow(11);
    const SEPARATORS = [' ', '-', '/', ':', '.', 'T', '\t', '\u00a0', 'x'];
    let dates = 0;
    for (let i = 0; i < 20_000; i++) {
      let raw = '';
      // Mostly plausible dates (so that most are read), some not.
      const plausible = `${2000 + next(40)}`.slice(next(2) * 2) + [1 + next(13), 1 + next(31), next(25), next(61), next(61)].map((n) => String(n).padStart(2, '0')).join('');
      for (const c of plausible.slice(0, 9 + next(8))) raw += next(6) === 0 ? SEPARATORS[next(SEPARATORS.length)]! + c : c;
      const expected = reference(raw);
      if (expected) dates++;
      expect(parseReceiptDate(raw)?.getTime(), JSON.stringify(raw)).toBe(expected?.getTime());
    }
    expect(dates).toBeGreaterThan(1_000);
  });
});
