/**
 * The codec's fast paths against its general ones: the hand-written bodies (submit_sm, deliver_sm,
 * the message_id responses, header-only PDUs) must lay out and read exactly what BODY_SCHEMAS
 * says, `encodeRequest`/`encodeSimpleResponse` must give the octets `encodePdu(makePdu(...))` gives,
 * `decodeOwnedFrame` must read what `decodePdu` reads, and the quick TLV length test must agree
 * with `checkTlvValue`. Also pins which fault a PDU with several is reported for.
 */
import { describe, expect, it } from 'vitest';
import {
  BODY_SCHEMAS,
  PduEncodeError,
  decodeOwnedFrame,
  decodePdu,
  encodePdu,
  encodeRequest,
  encodeSimpleResponse,
  makePdu,
  tlvLengthAllowed,
} from '../../../src/smpp/codec.ts';
import { COMMAND_IDS, type CommandName } from '../../../src/smpp/commands.ts';
import { shortMessageFields, type Pdu, type PduInit } from '../../../src/smpp/pdu.ts';
import { TLV_SPECS, checkTlvValue, makeTlv, type Tlv } from '../../../src/smpp/tlv.ts';

const COMMANDS = Object.keys(COMMAND_IDS) as CommandName[];

/** A body where every field has its own value: u8 fields 1, 2, 3..., strings "a1", "a2"... */
function distinctFields(command: CommandName): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let n = 0;
  for (const spec of BODY_SCHEMAS[command]) {
    n++;
    if (spec.kind === 'u8') fields[spec.name] = n;
    else if (spec.kind === 'short_message') fields.short_message = Buffer.from([0xaa, n]);
    else fields[spec.name] = `a${n}`;
  }
  return fields;
}

/** Walks a body by BODY_SCHEMAS, independently of the codec. */
function readBySchema(command: CommandName, wire: Buffer): { fields: Record<string, unknown>; rest: Buffer } {
  const fields: Record<string, unknown> = {};
  let at = 16;
  for (const spec of BODY_SCHEMAS[command]) {
    if (spec.kind === 'u8') fields[spec.name] = wire[at++];
    else if (spec.kind === 'short_message') {
      const n = wire[at++] ?? 0;
      fields.short_message = wire.subarray(at, at + n);
      at += n;
    } else {
      const nul = wire.indexOf(0, at);
      fields[spec.name] = wire.toString('latin1', at, nul);
      at = nul + 1;
    }
  }
  return { fields, rest: wire.subarray(at) };
}

const TLVS: Tlv[] = [makeTlv('receipted_message_id', 'abc'), { tag: 0x1401, value: Buffer.from([1, 2, 3]) }];

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('codec paths: every body follows BODY_SCHEMAS', () => {
  it.each(COMMANDS)('%s: fields on the wire in schema order, read back with keys in schema order', (command) => {
    const fields = distinctFields(command);
    const pdu = makePdu(command, { ...fields, command_status: 7, sequence_number: 42, tlvs: TLVS } as PduInit<typeof command>) as Pdu;
    const wire = encodePdu(pdu);
    expect(wire.readUInt32BE(0)).toBe(wire.length);
    expect(wire.readUInt32BE(4)).toBe(COMMAND_IDS[command]);
    expect(wire.readUInt32BE(8)).toBe(7);
    expect(wire.readUInt32BE(12)).toBe(42);
    const { fields: onWire, rest } = readBySchema(command, wire);
    expect(onWire).toEqual(fields);
    expect(rest.toString('hex')).toBe('001e0004' + '61626300' + '14010003' + '010203');

    for (const decode of [decodePdu, decodeOwnedFrame]) {
      const result = decode(wire);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      const names = BODY_SCHEMAS[command].map((s) => (s.kind === 'short_message' ? 'short_message' : s.name));
      expect(Object.keys(result.pdu)).toEqual(['command', 'command_status', 'sequence_number', ...names, 'tlvs']);
      expect(result.pdu).toStrictEqual({ command, command_status: 7, sequence_number: 42, ...fields, tlvs: TLVS });
    }
  });

  it.each(COMMANDS.filter((c) => c.endsWith('_resp')))('a bare-header %s reads every field as its default, keys in schema order', (command) => {
    const wire = Buffer.alloc(16);
    wire.writeUInt32BE(16, 0);
    wire.writeUInt32BE(COMMAND_IDS[command], 4);
    for (const decode of [decodePdu, decodeOwnedFrame]) {
      const result = decode(wire);
      if (!result.ok) throw new Error(result.error.reason);
      const names = BODY_SCHEMAS[command].map((s) => (s.kind === 'short_message' ? 'short_message' : s.name));
      expect(Object.keys(result.pdu)).toEqual(['command', 'command_status', 'sequence_number', ...names, 'tlvs']);
    }
  });
});

describe('codec paths: encodeRequest and encodeSimpleResponse', () => {
  const submit = shortMessageFields({ source_addr: '12345', destination_addr: '447700900001', short_message: Buffer.from('hello') });

  it.each(COMMANDS)('encodeRequest(%s) is encodePdu(makePdu({ ...init, sequence_number }))', (command) => {
    const init = { ...distinctFields(command), tlvs: TLVS } as PduInit<typeof command>;
    expect(encodeRequest(command, 0x1234, init).equals(encodePdu(makePdu(command, { ...init, sequence_number: 0x1234 }) as Pdu))).toBe(true);
    const bare = distinctFields(command) as PduInit<typeof command>;
    expect(encodeRequest(command, 9, bare).equals(encodePdu(makePdu(command, { ...bare, sequence_number: 9 }) as Pdu))).toBe(true);
  });

  it('encodeRequest keeps init.command_status and ignores init.sequence_number and extra keys', () => {
    const init = { ...submit, command_status: 5, sequence_number: 99, extra: 'x' } as PduInit<'submit_sm'>;
    const wire = encodeRequest('submit_sm', 3, init);
    expect(wire.readUInt32BE(8)).toBe(5);
    expect(wire.readUInt32BE(12)).toBe(3);
    expect(wire.equals(encodePdu(makePdu('submit_sm', { ...init, sequence_number: 3 })))).toBe(true);
  });

  it.each([
    ['submit_sm_resp', 'abc123'],
    ['deliver_sm_resp', ''],
    ['data_sm_resp', 'x'.repeat(64)],
    ['enquire_link_resp', ''],
    ['unbind_resp', 'ignored'],
    ['generic_nack', ''],
  ] as const)('encodeSimpleResponse(%s, %j) is what encodePdu makes of it', (command, messageId) => {
    const viaPdu = encodePdu(makePdu(command, { message_id: messageId, command_status: 0x58, sequence_number: 77 } as PduInit<typeof command>) as Pdu);
    expect(encodeSimpleResponse(command, 0x58, 77, messageId)?.toString('hex')).toBe(viaPdu.toString('hex'));
  });

  it('encodeSimpleResponse is undefined for responses with other fields, and refuses a bad message_id', () => {
    for (const command of ['bind_transceiver_resp', 'query_sm_resp', 'submit_sm', 'deliver_sm'] as const) {
      expect(encodeSimpleResponse(command, 0, 1, '')).toBeUndefined();
    }
    expect(thrown(() => encodeSimpleResponse('deliver_sm_resp', 0, 1, 'f'.repeat(65)))).toBeInstanceOf(PduEncodeError);
    expect(thrown(() => encodeSimpleResponse('deliver_sm_resp', 0, 1, 'a€'))).toBeInstanceOf(PduEncodeError);
  });
});

describe('codec paths: which fault is reported when a PDU has several', () => {
  const base = shortMessageFields({ destination_addr: '1', short_message: Buffer.from('x') });
  const tooLong: Tlv = { tag: 0x1401, value: Buffer.alloc(0x10000) };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['short_message not a Buffer, before a TLV too long and a bad field', { short_message: 'x', tlvs: [tooLong], esm_class: 300 }, /must be a Buffer/],
    ['a TLV too long, before a bad field', { tlvs: [tooLong], source_addr: 'x'.repeat(30) }, /65535/],
    ['fields in wire order: source_addr_ton before source_addr', { source_addr_ton: -1, source_addr: 'x'.repeat(30) }, /source_addr_ton/],
    ['fields in wire order: source_addr before esm_class', { source_addr: 'x'.repeat(30), esm_class: 300 }, /source_addr is 30/],
    ['a field before short_message too long', { sm_default_msg_id: 1.5, short_message: Buffer.alloc(300) }, /sm_default_msg_id/],
  ];

  it.each(cases)('%s', (_name, faults, message) => {
    for (const command of ['submit_sm', 'deliver_sm'] as const) {
      const pdu = { ...makePdu(command, base), ...faults } as unknown as Pdu;
      const err = thrown(() => encodePdu(pdu));
      expect(err).toBeInstanceOf(PduEncodeError);
      expect(err.message).toMatch(message);
      const init = { ...base, ...faults } as unknown as PduInit<typeof command>;
      expect(thrown(() => encodeRequest(command, 1, init)).message).toBe(err.message);
    }
  });

  it('a value that is not a string is written as String(value) in a C-Octet String', () => {
    const pdu = { ...makePdu('submit_sm', base), source_addr: 12345 } as unknown as Pdu;
    const wire = encodePdu(pdu);
    expect(decodePdu(wire)).toMatchObject({ ok: true, pdu: { source_addr: '12345' } });
  });
});

describe('codec paths: decodeOwnedFrame', () => {
  it('reads the same PDU as decodePdu, with short_message and TLV values as views of the frame', () => {
    const wire = encodePdu(makePdu('deliver_sm', { ...shortMessageFields({ destination_addr: '1', short_message: Buffer.from('hi') }), tlvs: TLVS }));
    const owned = decodeOwnedFrame(wire);
    expect(owned).toStrictEqual(decodePdu(wire));
    if (!owned.ok || owned.pdu.command !== 'deliver_sm') throw new Error('expected a deliver_sm');
    expect(owned.pdu.short_message.buffer).toBe(wire.buffer);
    expect(owned.pdu.tlvs[0]?.value.buffer).toBe(wire.buffer);
  });

  it('reports malformed input exactly as decodePdu does', () => {
    const good = encodePdu(makePdu('submit_sm', { ...shortMessageFields({ destination_addr: '1', short_message: Buffer.from('hello') }), tlvs: TLVS }));
    for (let cut = 0; cut < good.length; cut++) {
      const frame = Buffer.from(good.subarray(0, cut));
      if (frame.length >= 4) frame.writeUInt32BE(frame.length, 0);
      expect(decodeOwnedFrame(frame)).toStrictEqual(decodePdu(frame));
    }
  });
});

describe('codec paths: the quick TLV length test', () => {
  it('agrees with checkTlvValue for every known tag and length', () => {
    const lengths = new Set<number>([...Array.from({ length: 300 }, (_, i) => i), 0xfffe, 0xffff]);
    for (const spec of Object.values(TLV_SPECS) as { tag: number; max?: number }[]) {
      const forTag = new Set(lengths);
      if (spec.max !== undefined) for (const d of [-1, 0, 1]) forTag.add(spec.max + d);
      for (const length of forTag) {
        const tlv = { tag: spec.tag, value: Buffer.alloc(length) };
        expect(tlvLengthAllowed(spec.tag, length), `tag 0x${spec.tag.toString(16)} length ${length}`).toBe(checkTlvValue(tlv) === undefined);
      }
    }
  });

  it('allows any length for a tag Parley does not know', () => {
    expect(tlvLengthAllowed(0x1401, 0)).toBe(true);
    expect(tlvLengthAllowed(0x1401, 0xffff)).toBe(true);
  });
});
