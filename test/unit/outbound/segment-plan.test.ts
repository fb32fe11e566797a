/**
 * planSegments: the submit_sm requests one message becomes. Expected values come from GSM 03.38 /
 * 23.038 (which characters are in the 7-bit default alphabet, which take an escape), 23.040 (140
 * octets of user data; a 6-octet concatenation UDH 00 03 ref total seq behind UDHL 05, a 7-octet
 * 16-bit one 08 04 ref ref total seq behind UDHL 06) and SMPP 3.4 (data_coding 0x00 = SMSC
 * default, 0x08 = UCS-2; TON/NPI 5/0 alphanumeric, 3/0 network specific, 1/1 international ISDN).
 */
import { describe, expect, it } from 'vitest';
import { planSegments, type SmscEncoding } from '../../../src/outbound/encoding.ts';

const GSM: SmscEncoding = { defaultAlphabet: 'gsm7', concatenation: 'udh8', sourceTon: 'auto', sourceNpi: 'auto', destTon: 'auto', destNpi: 'auto' };
const message = (text: string) => ({ to: '447700900123', from: 'Parley', text, dlr: true });

function plan(text: string, smsc: SmscEncoding = GSM, reference = 0x2a) {
  const result = planSegments(message(text), smsc, reference);
  if (!result.ok) throw new Error(`expected a plan, got ${result.code}: ${result.reason}`);
  return result.segments;
}

describe('planSegments: alphabet and part count', () => {
  // [what, text, data_coding, parts]
  const rows: [string, string, number, number][] = [
    ['GSM basic characters, 160 septets fit one message', 'a'.repeat(160), 0x00, 1],
    ['GSM, 161 septets need two 153-septet parts', 'a'.repeat(161), 0x00, 2],
    ['GSM, 306 septets are exactly two parts of 153', 'a'.repeat(306), 0x00, 2],
    ['GSM, 307 septets need a third part', 'a'.repeat(307), 0x00, 3],
    ['GSM basic set beyond ASCII (@£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà) stays 7-bit', '@£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà', 0x00, 1],
    ['an extension character (€ = ESC 0x65) costs two septets: 80 of them fill 160', '€'.repeat(80), 0x00, 1],
    ['81 euro signs are 162 septets: two parts', '€'.repeat(81), 0x00, 2],
    ['159 basic + one extension char = 161 septets: two parts', `${'a'.repeat(159)}{`, 0x00, 2],
    ['characters outside GSM 03.38 (ż, ó, ł, ą, ć) force UCS-2', 'zażółć', 0x08, 1],
    ['UCS-2, 70 characters fit one message', 'ą'.repeat(70), 0x08, 1],
    ['UCS-2, 71 characters need two 67-unit parts', 'ą'.repeat(71), 0x08, 2],
    ['UCS-2, 134 characters are exactly two parts of 67', 'ą'.repeat(134), 0x08, 2],
    ['UCS-2, 135 characters need a third part', 'ą'.repeat(135), 0x08, 3],
    ['an emoji (a surrogate pair, two UCS-2 units): 35 fill 70 units', '😀'.repeat(35), 0x08, 1],
    ['36 emoji are 72 units: two parts', '😀'.repeat(36), 0x08, 2],
  ];
  it.each(rows)('%s', (_what, text, dataCoding, parts) => {
    const segments = plan(text);
    expect(segments.map((s) => s.request.dataCoding)).toEqual(Array(parts).fill(dataCoding));
    expect(segments).toHaveLength(parts);
    expect(segments.map((s) => [s.seq, s.total])).toEqual(Array.from({ length: parts }, (_, i) => [i + 1, parts]));
  });
});

describe('planSegments: one message is one short_message without UDH', () => {
  it.each([
    ['hello', Buffer.from([0x68, 0x65, 0x6c, 0x6c, 0x6f])],
    // @ is septet 0x00, £ 0x01, $ 0x02 (GSM 03.38 table 6.2.1); one septet a byte, unpacked.
    ['@£$', Buffer.from([0x00, 0x01, 0x02])],
    // Extension table: ESC (0x1B) then 0x65 for €, 0x28 for {, 0x3C for [.
    ['€{[', Buffer.from([0x1b, 0x65, 0x1b, 0x28, 0x1b, 0x3c])],
    // UCS-2 is big-endian UTF-16: ą is U+0105.
    ['ą', Buffer.from([0x01, 0x05])],
  ])('%s', (text, octets) => {
    const [only, ...rest] = plan(text);
    expect(rest).toEqual([]);
    expect(only!.request.udhi).toBe(false);
    expect(only!.request.shortMessage).toEqual(octets);
  });
});

describe('planSegments: concatenation headers (23.040 9.2.3.24.1 and .8)', () => {
  it('udh8: UDHL 05, IEI 00, length 03, the reference taken modulo 256, total, seq', () => {
    const segments = plan('a'.repeat(200), GSM, 0x1234);
    expect(segments.map((s) => [...s.request.shortMessage.subarray(0, 6)])).toEqual([
      [0x05, 0x00, 0x03, 0x34, 0x02, 0x01],
      [0x05, 0x00, 0x03, 0x34, 0x02, 0x02],
    ]);
    // 153 septets in the first part, the other 47 in the second.
    expect(segments.map((s) => s.request.shortMessage.length - 6)).toEqual([153, 47]);
    expect(segments.every((s) => s.request.udhi)).toBe(true);
  });

  it('udh16: UDHL 06, IEI 08, length 04, a 16-bit reference; 152 septets a part', () => {
    const segments = plan('a'.repeat(200), { ...GSM, concatenation: 'udh16' }, 0x1234);
    expect(segments.map((s) => [...s.request.shortMessage.subarray(0, 7)])).toEqual([
      [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01],
      [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02],
    ]);
    expect(segments.map((s) => s.request.shortMessage.length - 7)).toEqual([152, 48]);
  });

  it('UCS-2 with udh8: 67 characters (134 octets) after the 6-octet header', () => {
    const segments = plan('ą'.repeat(100));
    expect(segments.map((s) => s.request.shortMessage.length)).toEqual([6 + 134, 6 + 66]);
  });

  it('an extension character is never cut from its escape across parts', () => {
    // 152 basic septets, then € (2 septets) would need 154 > 153: it opens the second part.
    const segments = plan(`${'a'.repeat(152)}€${'b'.repeat(10)}`);
    expect(segments.map((s) => s.request.shortMessage.length - 6)).toEqual([152, 12]);
    expect([...segments[1]!.request.shortMessage.subarray(6, 8)]).toEqual([0x1b, 0x65]);
  });

  it('sar: no UDH in the text, the SMSC gets reference, total and seq as TLVs', () => {
    const segments = plan('a'.repeat(200), { ...GSM, concatenation: 'sar' }, 0x1234);
    expect(segments.map((s) => [s.request.udhi, s.request.sar])).toEqual([
      [false, { reference: 0x1234, total: 2, seq: 1 }],
      [false, { reference: 0x1234, total: 2, seq: 2 }],
    ]);
    expect(segments.map((s) => s.request.shortMessage.length)).toEqual([153, 47]);
  });

  it('payload: one submit, the whole text in message_payload, short_message empty', () => {
    const segments = plan('a'.repeat(400), { ...GSM, concatenation: 'payload' });
    expect(segments).toHaveLength(1);
    expect(segments[0]!.request.shortMessage.length).toBe(0);
    expect(segments[0]!.request.payload?.length).toBe(400);
  });
});

describe('planSegments: refusals', () => {
  it.each([
    ['an empty text', '', 'empty_text'],
    // 255 parts is the UDH's one-octet limit: 256 * 153 septets cannot be sent.
    ['256 parts of GSM', 'a'.repeat(153 * 256), 'too_many_parts'],
  ])('%s', (_what, text, code) => {
    expect(planSegments(message(text), GSM, 1)).toMatchObject({ ok: false, code });
  });

  it('255 full parts is still allowed', () => {
    expect(plan('a'.repeat(153 * 255))).toHaveLength(255);
  });
});

describe('planSegments: addresses (SMPP 3.4 5.2.5 / 5.2.6)', () => {
  it.each([
    ['alphanumeric sender', 'Parley', { ton: 5, npi: 0 }],
    ['short code (up to 8 digits)', '72345', { ton: 3, npi: 0 }],
    ['international number', '447700900123', { ton: 1, npi: 1 }],
  ])('%s on auto', (_what, from, tonNpi) => {
    const result = planSegments({ ...message('hi'), from }, GSM, 1);
    expect(result.ok && result.segments[0]!.request.source).toEqual({ address: from, ...tonNpi });
  });

  it('configured TON/NPI win over auto', () => {
    const result = planSegments(message('hi'), { ...GSM, sourceTon: 0, sourceNpi: 0, destTon: 2, destNpi: 9 }, 1);
    expect(result.ok && [result.segments[0]!.request.source, result.segments[0]!.request.destination]).toEqual([
      { address: 'Parley', ton: 0, npi: 0 },
      { address: '447700900123', ton: 2, npi: 9 },
    ]);
  });

  it('registered_delivery and validity follow the message; priority_flag stays 0', () => {
    const result = planSegments({ ...message('hi'), dlr: false, validitySeconds: 600 }, GSM, 1);
    expect(result.ok && result.segments[0]!.request).toMatchObject({ registeredDelivery: false, validitySeconds: 600, priority: 0 });
  });
});
