import { describe, expect, it } from 'vitest';
import { assembleParts, partOf } from '../../../src/inbound/reassembly.ts';
import { inboundSm } from '../../support/inbound-sm.ts';
import type { StoredPart } from '../../../src/domain/reply.ts';
import { buildConcatUdh } from '../../../src/smpp/text/udh.ts';

const sm = inboundSm;

const stored = (seq: number, body: string, id: number, dataCoding = 0): StoredPart => ({
  partId: String(id),
  fingerprint: `f${id}`,
  smsc: 'carrier',
  from: '14155550142',
  to: '12345',
  total: 2,
  seq,
  dataCoding,
  body: Buffer.from(body, dataCoding === 8 ? 'utf16le' : 'latin1'),
  receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id)),
});

describe('a deliver_sm as a part', () => {
  it.each([
    ['whole, in short_message', sm({}), { concatKey: null, total: 1, seq: 1, body: 'hello' }],
    ['whole, in message_payload', sm({ shortMessage: Buffer.alloc(0), messagePayload: Buffer.from('long text') }), { concatKey: null, total: 1, seq: 1, body: 'long text' }],
    [
      'by an 8-bit UDH reference',
      sm({ udhi: true, esmClass: 0x40, shortMessage: Buffer.concat([buildConcatUdh(17, 3, 2, 8), Buffer.from('part')]) }),
      { concatKey: 'udh8:17', total: 3, seq: 2, body: 'part' },
    ],
    [
      'by a 16-bit UDH reference',
      sm({ udhi: true, esmClass: 0x40, shortMessage: Buffer.concat([buildConcatUdh(700, 2, 1, 16), Buffer.from('part')]) }),
      { concatKey: 'udh16:700', total: 2, seq: 1, body: 'part' },
    ],
    ['by SAR TLVs', sm({ sar: { reference: 9, total: 2, seq: 2 } }), { concatKey: 'sar:9', total: 2, seq: 2, body: 'hello' }],
    ['a SAR of one part is whole', sm({ sar: { reference: 9, total: 1, seq: 1 } }), { concatKey: null, total: 1, seq: 1, body: 'hello' }],
  ] as const)('%s', (_name, input, expected) => {
    const part = partOf(input);
    expect({ concatKey: part.concatKey, total: part.total, seq: part.seq, body: part.body.toString('latin1') }).toEqual(expected);
  });

  it('keeps the numbers as outbound messages do, and an alphanumeric sender as sent', () => {
    expect(partOf(sm({})).from).toBe('14155550142');
    expect(partOf(sm({ source: { ton: 5, npi: 0, address: 'Acme Shop' } })).from).toBe('Acme Shop');
  });

  it('fingerprints a resend alike and another sender apart', () => {
    expect(partOf(sm({})).fingerprint).toBe(partOf(sm({})).fingerprint);
    expect(partOf(sm({})).fingerprint).not.toBe(partOf(sm({ source: { ton: 1, npi: 1, address: '+14155550143' } })).fingerprint);
  });
});

describe('parts assembled into a reply', () => {
  const gsm = (): 'gsm7' => 'gsm7';

  it('joins the parts in seq order, whatever order they came in, and takes the earliest arrival', () => {
    const reply = assembleParts([stored(2, ' world', 2), stored(1, 'hello', 1)], false, gsm);
    expect(reply).toMatchObject({ text: 'hello world', parts: 2, incomplete: false, from: '14155550142', to: '12345', decodeProblem: null });
    expect(reply.receivedAt.toISOString()).toBe('2026-01-01T00:00:01.000Z');
  });

  it('decodes the joined octets, so a UCS-2 character split across parts reads right', () => {
    const octets = Buffer.from('é€', 'utf16le').swap16(); // UCS-2 is big-endian on the wire
    const a = { ...stored(1, '', 1, 8), body: Buffer.from(octets.subarray(0, 1)) };
    const b = { ...stored(2, '', 2, 8), body: Buffer.from(octets.subarray(1)) };
    expect(assembleParts([a, b], false, gsm).text).toBe('é€');
  });

  it('derives the id from the stored parts: the same rows are the same reply, new rows a new one', () => {
    const once = assembleParts([stored(1, 'STOP', 1)], false, gsm).id;
    expect(assembleParts([stored(1, 'STOP', 1)], false, gsm).id).toBe(once);
    expect(assembleParts([stored(1, 'STOP', 5)], false, gsm).id).not.toBe(once);
    expect(once).toMatch(/^r-[0-9a-f]{30}$/);
  });
});
