/**
 * Every SMPP 3.4 PDU Parley speaks, against octets written by hand from the specification's layouts
 * (section 4): header = command_length, command_id, command_status, sequence_number (4 octets
 * each, big-endian), then the mandatory body in spec order (C-Octet strings end in 00, integers
 * are one octet), then TLVs (tag 2, length 2, value). The vectors are NOT produced by encodePdu.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_IDS, type CommandName } from '../../../src/smpp/commands.ts';
import {
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  ESME_RINVMSGLEN,
  ESME_RINVOPTPARSTREAM,
  ESME_RINVPARLEN,
  ESME_RINVPASWD,
  ESME_RINVSYSID,
  ESME_RTHROTTLED,
  commandStatusCode,
} from '../../../src/smpp/command-status.ts';
import { MAX_SHORT_MESSAGE, PduEncodeError, decodePdu, encodePdu, makePdu, type DecodeResult } from '../../../src/smpp/codec.ts';
import type { Pdu, PduOf } from '../../../src/smpp/pdu.ts';
import { readTlv, type Tlv } from '../../../src/smpp/tlv.ts';

const h = (...parts: string[]): Buffer => Buffer.from(parts.join(''), 'hex');
const tlv = (tag: number, valueHex: string): Tlv => ({ tag, value: Buffer.from(valueHex, 'hex') });

function decoded(result: DecodeResult): Pdu {
  if (!result.ok) throw new Error(`expected a PDU, got ${result.error.reason}`);
  return result.pdu;
}

interface Vector {
  readonly name: string;
  readonly pdu: Pdu;
  readonly hex: string;
}

/** Typed row: the PDU object must be exactly what decodePdu yields (all fields, tlvs list). */
function vector<C extends CommandName>(name: string, pdu: PduOf<C>, ...hex: string[]): Vector {
  return { name, pdu: pdu as unknown as Pdu, hex: hex.join('') };
}

const VECTORS: readonly Vector[] = [
  vector<'bind_transmitter'>(
    'bind_transmitter',
    {
      command: 'bind_transmitter',
      command_status: 0,
      sequence_number: 1,
      tlvs: [],
      system_id: 'parley',
      password: 'secret',
      system_type: '',
      interface_version: 0x34,
      addr_ton: 1,
      addr_npi: 1,
      address_range: '',
    },
    '00000023', '00000002', '00000000', '00000001',
    '7061726c657900', // system_id "parley"
    '73656372657400', // password "secret"
    '00', // system_type ""
    '34', '01', '01', // interface_version, addr_ton, addr_npi
    '00', // address_range ""
  ),
  vector<'bind_receiver'>(
    'bind_receiver',
    {
      command: 'bind_receiver',
      command_status: 0,
      sequence_number: 2,
      tlvs: [],
      system_id: 'rx',
      password: 'pw',
      system_type: 'VMA',
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '^447',
    },
    '00000022', '00000001', '00000000', '00000002',
    '727800', // "rx"
    '707700', // "pw"
    '564d4100', // "VMA"
    '34', '00', '00',
    '5e34343700', // "^447"
  ),
  vector<'bind_transceiver'>(
    'bind_transceiver (highest sequence number)',
    {
      command: 'bind_transceiver',
      command_status: 0,
      sequence_number: 0x7fffffff,
      tlvs: [],
      system_id: 'trx',
      password: '',
      system_type: '',
      interface_version: 0x34,
      addr_ton: 5,
      addr_npi: 0,
      address_range: '',
    },
    '0000001a', '00000009', '00000000', '7fffffff',
    '74727800', // "trx"
    '00', '00', // password, system_type
    '34', '05', '00',
    '00',
  ),
  vector<'bind_transmitter_resp'>(
    'bind_transmitter_resp with sc_interface_version',
    {
      command: 'bind_transmitter_resp',
      command_status: 0,
      sequence_number: 1,
      tlvs: [tlv(0x0210, '34')],
      system_id: 'SMSC',
    },
    '0000001a', '80000002', '00000000', '00000001',
    '534d534300', // "SMSC"
    '0210', '0001', '34', // sc_interface_version = 0x34
  ),
  vector<'bind_receiver_resp'>(
    'bind_receiver_resp refused (ESME_RINVPASWD) with a body',
    {
      command: 'bind_receiver_resp',
      command_status: ESME_RINVPASWD,
      sequence_number: 2,
      tlvs: [],
      system_id: '',
    },
    '00000011', '80000001', '0000000e', '00000002',
    '00',
  ),
  vector<'bind_transceiver_resp'>(
    'bind_transceiver_resp with sc_interface_version and a vendor TLV',
    {
      command: 'bind_transceiver_resp',
      command_status: 0,
      sequence_number: 3,
      tlvs: [tlv(0x0210, '34'), tlv(0x1401, 'c0ffee')],
      system_id: 'SMSC',
    },
    '00000021', '80000009', '00000000', '00000003',
    '534d534300',
    '0210', '0001', '34',
    '1401', '0003', 'c0ffee', // vendor-specific tag, unknown to Parley
  ),
  vector<'outbind'>(
    'outbind',
    { command: 'outbind', command_status: 0, sequence_number: 4, tlvs: [], system_id: 'smsc', password: 'pw' },
    '00000018', '0000000b', '00000000', '00000004',
    '736d736300', // "smsc"
    '707700', // "pw"
  ),
  vector<'unbind'>('unbind', { command: 'unbind', command_status: 0, sequence_number: 7, tlvs: [] }, '00000010', '00000006', '00000000', '00000007'),
  vector<'unbind_resp'>(
    'unbind_resp',
    { command: 'unbind_resp', command_status: 0, sequence_number: 7, tlvs: [] },
    '00000010', '80000006', '00000000', '00000007',
  ),
  vector<'enquire_link'>(
    'enquire_link',
    { command: 'enquire_link', command_status: 0, sequence_number: 8, tlvs: [] },
    '00000010', '00000015', '00000000', '00000008',
  ),
  vector<'enquire_link_resp'>(
    'enquire_link_resp',
    { command: 'enquire_link_resp', command_status: 0, sequence_number: 8, tlvs: [] },
    '00000010', '80000015', '00000000', '00000008',
  ),
  vector<'generic_nack'>(
    'generic_nack (ESME_RINVCMDID)',
    { command: 'generic_nack', command_status: ESME_RINVCMDID, sequence_number: 9, tlvs: [] },
    '00000010', '80000000', '00000003', '00000009',
  ),
  vector<'submit_sm'>(
    'submit_sm with user_message_reference',
    {
      command: 'submit_sm',
      command_status: 0,
      sequence_number: 10,
      tlvs: [tlv(0x0204, '0102')],
      service_type: '',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'Parley',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 1,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from([0x48, 0x65, 0x6c, 0x6c, 0x6f]),
    },
    '0000003e', '00000004', '00000000', '0000000a',
    '00', // service_type
    '05', '00', '5061726c657900', // source ton, npi, "Parley"
    '01', '01', '34343737303039303031323300', // dest ton, npi, "447700900123"
    '00', '00', '00', // esm_class, protocol_id, priority_flag
    '00', '00', // schedule_delivery_time, validity_period
    '01', '00', '00', '00', // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    '05', '48656c6c6f', // sm_length, "Hello"
    '0204', '0002', '0102', // user_message_reference = 0x0102
  ),
  vector<'submit_sm'>(
    'submit_sm with times, SAR TLVs and message_payload',
    {
      command: 'submit_sm',
      command_status: 0,
      sequence_number: 11,
      tlvs: [tlv(0x020c, '1234'), tlv(0x020e, '02'), tlv(0x020f, '01'), tlv(0x0424, '00480069')],
      service_type: 'CMT',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900001',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900002',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 1,
      schedule_delivery_time: '250101120000000+',
      validity_period: '000001000000000R',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 8,
      sm_default_msg_id: 0,
      short_message: Buffer.alloc(0),
    },
    '00000074', '00000004', '00000000', '0000000b',
    '434d5400', // "CMT"
    '01', '01', '34343737303039303030303100', // "447700900001"
    '01', '01', '34343737303039303030303200', // "447700900002"
    '00', '00', '01',
    '3235303130313132303030303030302b00', // "250101120000000+"
    '3030303030313030303030303030305200', // "000001000000000R"
    '00', '00', '08', '00',
    '00', // sm_length 0: the text is in message_payload
    '020c', '0002', '1234', // sar_msg_ref_num
    '020e', '0001', '02', // sar_total_segments
    '020f', '0001', '01', // sar_segment_seqnum
    '0424', '0004', '00480069', // message_payload, UCS-2 "Hi"
  ),
  vector<'submit_sm_resp'>(
    'submit_sm_resp',
    { command: 'submit_sm_resp', command_status: 0, sequence_number: 10, tlvs: [], message_id: 'abc123' },
    '00000017', '80000004', '00000000', '0000000a',
    '61626331323300', // "abc123"
  ),
  vector<'submit_sm_resp'>(
    'submit_sm_resp throttled, with an empty message_id',
    { command: 'submit_sm_resp', command_status: ESME_RTHROTTLED, sequence_number: 12, tlvs: [], message_id: '' },
    '00000011', '80000004', '00000058', '0000000c',
    '00',
  ),
  vector<'deliver_sm'>(
    'deliver_sm delivery receipt with receipted_message_id, message_state, network_error_code',
    {
      command: 'deliver_sm',
      command_status: 0,
      sequence_number: 13,
      tlvs: [tlv(0x001e, '61626331323300'), tlv(0x0427, '05'), tlv(0x0423, '030022')],
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      dest_addr_ton: 5,
      dest_addr_npi: 0,
      destination_addr: 'Parley',
      esm_class: 0x04,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from('id:abc123 stat:UNDELIV', 'latin1'),
    },
    '00000060', '00000005', '00000000', '0000000d',
    '00',
    '01', '01', '34343737303039303031323300',
    '05', '00', '5061726c657900',
    '04', '00', '00', // esm_class: SMSC delivery receipt
    '00', '00',
    '00', '00', '00', '00',
    '16', '69643a616263313233', '20', '737461743a554e44454c4956', // 22: "id:abc123" " " "stat:UNDELIV"
    '001e', '0007', '61626331323300', // receipted_message_id "abc123\0"
    '0427', '0001', '05', // message_state UNDELIVERABLE
    '0423', '0003', '030022', // network_error_code: GSM (3), error 0x0022
  ),
  vector<'deliver_sm_resp'>(
    'deliver_sm_resp',
    { command: 'deliver_sm_resp', command_status: 0, sequence_number: 13, tlvs: [], message_id: '' },
    '00000011', '80000005', '00000000', '0000000d',
    '00',
  ),
  vector<'data_sm'>(
    'data_sm with message_payload and a vendor TLV',
    {
      command: 'data_sm',
      command_status: 0,
      sequence_number: 14,
      tlvs: [tlv(0x0424, '4869207468657265'), tlv(0x1401, 'beef')],
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      dest_addr_ton: 5,
      dest_addr_npi: 0,
      destination_addr: 'Parley',
      esm_class: 0,
      registered_delivery: 1,
      data_coding: 0,
    },
    '0000003e', '00000103', '00000000', '0000000e',
    '00',
    '01', '01', '34343737303039303031323300',
    '05', '00', '5061726c657900',
    '00', '01', '00', // esm_class, registered_delivery, data_coding
    '0424', '0008', '4869207468657265', // message_payload "Hi there"
    '1401', '0002', 'beef',
  ),
  vector<'data_sm_resp'>(
    'data_sm_resp',
    { command: 'data_sm_resp', command_status: 0, sequence_number: 14, tlvs: [], message_id: 'd-1' },
    '00000014', '80000103', '00000000', '0000000e',
    '642d3100', // "d-1"
  ),
  vector<'query_sm'>(
    'query_sm',
    {
      command: 'query_sm',
      command_status: 0,
      sequence_number: 15,
      tlvs: [],
      message_id: 'abc123',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900001',
    },
    '00000026', '00000003', '00000000', '0000000f',
    '61626331323300',
    '01', '01', '34343737303039303030303100',
  ),
  vector<'query_sm_resp'>(
    'query_sm_resp',
    {
      command: 'query_sm_resp',
      command_status: 0,
      sequence_number: 15,
      tlvs: [],
      message_id: 'abc123',
      final_date: '250101120500000+',
      message_state: 2,
      error_code: 0,
    },
    '0000002a', '80000003', '00000000', '0000000f',
    '61626331323300',
    '3235303130313132303530303030302b00', // "250101120500000+"
    '02', '00', // message_state DELIVERED, error_code
  ),
  vector<'alert_notification'>(
    'alert_notification with ms_availability_status',
    {
      command: 'alert_notification',
      command_status: 0,
      sequence_number: 16,
      tlvs: [tlv(0x0422, '00')],
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      esme_addr_ton: 5,
      esme_addr_npi: 0,
      esme_addr: 'Parley',
    },
    '0000002d', '00000102', '00000000', '00000010',
    '01', '01', '34343737303039303031323300',
    '05', '00', '5061726c657900',
    '0422', '0001', '00', // ms_availability_status available
  ),
];

describe('codec: hand-written SMPP 3.4 vectors', () => {
  it('covers every command in COMMAND_IDS', () => {
    const covered = new Set(VECTORS.map((v) => v.pdu.command));
    expect([...covered].sort()).toEqual(Object.keys(COMMAND_IDS).sort());
  });

  it('every vector states its own length in command_length', () => {
    for (const v of VECTORS) {
      const buf = Buffer.from(v.hex, 'hex');
      expect(buf.readUInt32BE(0), v.name).toBe(buf.length);
      expect(buf.readUInt32BE(4), v.name).toBe(COMMAND_IDS[v.pdu.command]);
    }
  });

  it.each(VECTORS)('encodes $name', ({ pdu, hex }) => {
    expect(encodePdu(pdu).toString('hex')).toBe(hex);
  });

  it.each(VECTORS)('decodes $name', ({ pdu, hex }) => {
    expect(decodePdu(Buffer.from(hex, 'hex'))).toStrictEqual({ ok: true, pdu });
  });

  it('reads the named TLVs of the vectors back as values', () => {
    const byName = new Map(VECTORS.map((v) => [v.name, decoded(decodePdu(Buffer.from(v.hex, 'hex')))]));
    const receipt = byName.get('deliver_sm delivery receipt with receipted_message_id, message_state, network_error_code');
    expect(receipt).toBeDefined();
    const tlvs = receipt?.tlvs ?? [];
    expect(readTlv(tlvs, 'receipted_message_id')).toBe('abc123');
    expect(readTlv(tlvs, 'message_state')).toBe(5);
    expect(readTlv(tlvs, 'network_error_code')).toEqual({ networkType: 3, errorCode: 0x22 });

    const sar = byName.get('submit_sm with times, SAR TLVs and message_payload')?.tlvs ?? [];
    expect(readTlv(sar, 'sar_msg_ref_num')).toBe(0x1234);
    expect(readTlv(sar, 'sar_total_segments')).toBe(2);
    expect(readTlv(sar, 'sar_segment_seqnum')).toBe(1);
    expect(readTlv(sar, 'message_payload')).toEqual(Buffer.from([0x00, 0x48, 0x00, 0x69]));

    const umr = byName.get('submit_sm with user_message_reference')?.tlvs ?? [];
    expect(readTlv(umr, 'user_message_reference')).toBe(0x0102);

    const bindResp = byName.get('bind_transmitter_resp with sc_interface_version')?.tlvs ?? [];
    expect(readTlv(bindResp, 'sc_interface_version')).toBe(0x34);
  });

  it('an unknown vendor TLV between known ones round-trips byte for byte, in place', () => {
    const wire = h(
      '0000002f', '80000009', '00000000', '00000005',
      '534d534300', // "SMSC"
      '0210', '0001', '34',
      '1401', '0005', '0102030405', // vendor TLV
      '1402', '0000', // vendor TLV with an empty value
      '001d', '0004', '6f6b2100', // additional_status_info_text "ok!"
    );
    expect(wire.readUInt32BE(0)).toBe(wire.length);
    const pdu = decoded(decodePdu(wire));
    expect(pdu.tlvs.map((t) => t.tag)).toEqual([0x0210, 0x1401, 0x1402, 0x001d]);
    expect(pdu.tlvs[1]?.value).toEqual(h('0102030405'));
    expect(pdu.tlvs[2]?.value).toEqual(Buffer.alloc(0));
    expect(readTlv(pdu.tlvs, 'additional_status_info_text')).toBe('ok!');
    expect(encodePdu(pdu).equals(wire)).toBe(true);
  });

  it('a decoded PDU does not share memory with the frame it came from', () => {
    const frame = Buffer.from(VECTORS.find((v) => v.name.startsWith('submit_sm with user'))?.hex ?? '', 'hex');
    const pdu = decoded(decodePdu(frame));
    frame.fill(0xee);
    expect(pdu.command === 'submit_sm' && pdu.short_message.toString('latin1')).toBe('Hello');
    expect(pdu.tlvs[0]?.value).toEqual(h('0102'));
  });

  it('makePdu fills status, sequence and TLVs with their defaults', () => {
    const pdu = makePdu('enquire_link', {});
    expect(pdu).toStrictEqual({ command: 'enquire_link', command_status: 0, sequence_number: 0, tlvs: [] });
    expect(encodePdu(pdu).toString('hex')).toBe('00000010' + '00000015' + '00000000' + '00000000');
  });

  it('encodes a missing optional body field as its default (empty C-string, integer 0)', () => {
    const pdu = { command: 'submit_sm_resp', command_status: 0, sequence_number: 1, tlvs: [] } as unknown as Pdu;
    expect(encodePdu(pdu).toString('hex')).toBe('00000011' + '80000004' + '00000000' + '00000001' + '00');
  });
});

function bind(fields: Partial<PduOf<'bind_transmitter'>>): Pdu {
  return makePdu('bind_transmitter', {
    system_id: 'parley',
    password: 'secret',
    system_type: '',
    interface_version: 0x34,
    addr_ton: 0,
    addr_npi: 0,
    address_range: '',
    ...fields,
  });
}

function submit(fields: Partial<PduOf<'submit_sm'>>): Pdu {
  return makePdu('submit_sm', {
    service_type: '',
    source_addr_ton: 0,
    source_addr_npi: 0,
    source_addr: '',
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: '1',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.alloc(0),
    ...fields,
  });
}

function encodeError(pdu: Pdu): PduEncodeError {
  try {
    encodePdu(pdu);
  } catch (err) {
    if (err instanceof PduEncodeError) return err;
    throw err;
  }
  throw new Error('encodePdu did not throw');
}

describe('codec: field limits on encode', () => {
  it('system_id: 15 characters fit, 16 do not (C-Octet String, max 16 with NUL)', () => {
    const fits = encodePdu(bind({ system_id: 'a'.repeat(15) }));
    expect(fits.subarray(16, 32).toString('hex')).toBe('61'.repeat(15) + '00');
    const err = encodeError(bind({ system_id: 'a'.repeat(16) }));
    expect(err.code).toBe('smpp_encode');
    expect(err.message).toContain('system_id');
  });

  it.each([
    ['password', 9],
    ['system_type', 13],
    ['address_range', 41],
  ] as const)('bind %s holds at most %i octets with its NUL', (field, max) => {
    expect(() => encodePdu(bind({ [field]: 'x'.repeat(max - 1) }))).not.toThrow();
    expect(encodeError(bind({ [field]: 'x'.repeat(max) })).message).toContain(field);
  });

  it.each([
    ['service_type', 6],
    ['source_addr', 21],
    ['destination_addr', 21],
    ['schedule_delivery_time', 17],
    ['validity_period', 17],
  ] as const)('submit_sm %s holds at most %i octets with its NUL', (field, max) => {
    expect(() => encodePdu(submit({ [field]: '1'.repeat(max - 1) }))).not.toThrow();
    expect(encodeError(submit({ [field]: '1'.repeat(max) })).message).toContain(field);
  });

  it('data_sm and alert_notification addresses allow 64 characters (max 65 with NUL)', () => {
    const dataSm = (destination_addr: string): Pdu =>
      makePdu('data_sm', {
        service_type: '',
        source_addr_ton: 0,
        source_addr_npi: 0,
        source_addr: '',
        dest_addr_ton: 0,
        dest_addr_npi: 0,
        destination_addr,
        esm_class: 0,
        registered_delivery: 0,
        data_coding: 0,
      });
    expect(encodePdu(dataSm('9'.repeat(64))).length).toBe(16 + 1 + 2 + 1 + 2 + 65 + 3);
    expect(encodeError(dataSm('9'.repeat(65))).message).toContain('destination_addr');
    const alert = (esme_addr: string): Pdu =>
      makePdu('alert_notification', {
        source_addr_ton: 0,
        source_addr_npi: 0,
        source_addr: '1',
        esme_addr_ton: 0,
        esme_addr_npi: 0,
        esme_addr,
      });
    expect(() => encodePdu(alert('9'.repeat(64)))).not.toThrow();
    expect(encodeError(alert('9'.repeat(65))).message).toContain('esme_addr');
  });

  it('message_id holds at most 64 characters', () => {
    expect(encodePdu(makePdu('submit_sm_resp', { message_id: 'f'.repeat(64) })).length).toBe(16 + 65);
    expect(encodeError(makePdu('submit_sm_resp', { message_id: 'f'.repeat(65) })).message).toContain('message_id');
  });

  it('short_message: 254 octets fit (sm_length 0xfe), 255 are refused', () => {
    expect(MAX_SHORT_MESSAGE).toBe(254);
    const ok = encodePdu(submit({ short_message: Buffer.alloc(254, 0x41) }));
    // header 16, then 15 one-octet fields/empty strings and "1\0" (destination) before sm_length at 33
    expect(ok[33]).toBe(0xfe);
    expect(ok.length).toBe(34 + 254);
    const err = encodeError(submit({ short_message: Buffer.alloc(255, 0x41) }));
    expect(err.message).toContain('short_message');
    expect(err.message).toContain('255');
  });

  it('short_message must be a Buffer', () => {
    const pdu = { ...submit({}), short_message: 'text' } as unknown as Pdu;
    expect(encodeError(pdu).message).toContain('Buffer');
  });

  it.each([256, -1, 1.5, Number.NaN])('an integer field of %s is refused', (value) => {
    expect(encodeError(submit({ esm_class: value })).message).toContain('esm_class');
  });

  it('a C-Octet String cannot carry NUL or a character above U+00FF', () => {
    expect(encodeError(submit({ source_addr: 'a\0b' })).message).toContain('source_addr');
    expect(encodeError(submit({ source_addr: 'a€' })).message).toContain('source_addr');
    expect(encodePdu(submit({ source_addr: 'é' })).subarray(19, 21).toString('hex')).toBe('e900');
  });

  it('a TLV value longer than 65535 octets is refused; 65535 fit', () => {
    const big = (n: number): Pdu => ({ ...makePdu('enquire_link', {}), tlvs: [{ tag: 0x1401, value: Buffer.alloc(n) }] });
    const ok = encodePdu(big(0xffff));
    expect(ok.readUInt32BE(0)).toBe(16 + 4 + 0xffff);
    expect(ok.readUInt16BE(18)).toBe(0xffff);
    expect(encodeError(big(0x10000)).message).toContain('65535');
  });
});

type Failure = { commandStatus: number; command: CommandName | undefined; sequenceNumber: number; reason: string };

function failure(wire: Buffer): Failure {
  expect(wire.readUInt32BE(0)).toBe(wire.length);
  const result = decodePdu(wire);
  if (result.ok) throw new Error(`expected a decode error, got ${result.pdu.command}`);
  return result.error;
}

describe('codec: malformed input on decode', () => {
  it('a body that ends before an integer field is ESME_RINVCMDLEN', () => {
    const err = failure(h('0000001f', '00000002', '00000000', '00000021', '7061726c657900', '73656372657400', '00'));
    expect(err).toMatchObject({ commandStatus: ESME_RINVCMDLEN, command: 'bind_transmitter', sequenceNumber: 0x21 });
    expect(err.reason).toContain('interface_version');
  });

  it('a submit_sm body that ends before sm_length is ESME_RINVCMDLEN', () => {
    const err = failure(
      h('00000021', '00000004', '00000000', '00000001', '00', '0000', '00', '0000', '3100', '000000', '00', '00', '00000000'),
    );
    expect(err.commandStatus).toBe(ESME_RINVCMDLEN);
    expect(err.reason).toContain('sm_length');
  });

  it('a C-string cut off by the end of the PDU is ESME_RINVCMDLEN', () => {
    const err = failure(h('00000013', '00000009', '00000000', '00000001', '747278')); // "trx" without NUL
    expect(err).toMatchObject({ commandStatus: ESME_RINVCMDLEN, command: 'bind_transceiver' });
    expect(err.reason).toContain('system_id');
  });

  it('a C-string with no NUL within its maximum is the field\'s own status', () => {
    // system_id: 16 octets without NUL, then more body
    const sysId = failure(h('00000026', '00000002', '00000000', '00000001', '61'.repeat(16), '00', '00', '34', '00', '00', '00'));
    expect(sysId.commandStatus).toBe(ESME_RINVSYSID);
    // password: 9 octets without NUL
    const pw = failure(h('00000020', '00000002', '00000000', '00000001', '6100', '62'.repeat(9), '00', '34000000'));
    expect(pw.commandStatus).toBe(ESME_RINVPASWD);
    // destination_addr: 21 digits without NUL, followed by the rest of a submit_sm
    const dest = failure(
      h('00000035', '00000004', '00000000', '00000001', '00', '0000', '00', '0101', '31'.repeat(21), '000000', '00', '00', '00000000', '00'),
    );
    expect(dest.commandStatus).toBe(commandStatusCode('ESME_RINVDSTADR'));
    // message_id: 65 octets without NUL in a submit_sm_resp
    const msgId = failure(h('00000052', '80000004', '00000000', '00000001', '66'.repeat(65), '00'));
    expect(msgId.commandStatus).toBe(commandStatusCode('ESME_RINVMSGID'));
  });

  it('an sm_length that runs past the end is ESME_RINVMSGLEN', () => {
    const err = failure(
      h('00000024', '00000004', '00000000', '00000003', '00', '0000', '00', '0000', '3100', '000000', '00', '00', '00000000', '0a', '4869'),
    );
    expect(err).toMatchObject({ commandStatus: ESME_RINVMSGLEN, command: 'submit_sm', sequenceNumber: 3 });
    expect(err.reason).toContain('sm_length 10');
  });

  it('a TLV whose length runs past the end is ESME_RINVOPTPARSTREAM', () => {
    const err = failure(h('00000016', '80000004', '00000000', '00000001', '00', '1401', '0004', '01')); // 4 announced, 1 present
    expect(err.commandStatus).toBe(ESME_RINVOPTPARSTREAM);
    expect(err.reason).toContain('0x1401');
  });

  it('stray octets too short for a TLV header are ESME_RINVOPTPARSTREAM', () => {
    expect(failure(h('00000014', '80000004', '00000000', '00000001', '00', '001e', '00')).commandStatus).toBe(
      ESME_RINVOPTPARSTREAM,
    );
  });

  it.each([
    ['message_state with 2 octets', '0427', '0002', '0002'],
    ['sar_msg_ref_num with 1 octet', '020c', '0001', '01'],
    ['sar_total_segments with 2 octets', '020e', '0002', '0001'],
    ['user_message_reference with 4 octets', '0204', '0004', '00000001'],
    ['network_error_code with 2 octets', '0423', '0002', '0300'],
    ['sc_interface_version with 0 octets', '0210', '0000', ''],
    ['alert_on_message_delivery with 1 octet (3.4 defines it empty)', '130c', '0001', '01'],
    ['receipted_message_id with 66 octets (max 65)', '001e', '0042', '61'.repeat(65) + '00'],
  ])('a known TLV of the wrong size is ESME_RINVPARLEN: %s', (_name, tag, len, value) => {
    const body = '00' + tag + len + value;
    const wire = h((16 + body.length / 2).toString(16).padStart(8, '0'), '80000004', '00000000', '00000001', body);
    expect(failure(wire).commandStatus).toBe(ESME_RINVPARLEN);
  });

  it('an unknown command_id is ESME_RINVCMDID with the sequence number kept', () => {
    const err = failure(h('00000010', '00000021', '00000000', '0000002a')); // submit_multi: not spoken by Parley
    expect(err).toMatchObject({ commandStatus: ESME_RINVCMDID, command: undefined, sequenceNumber: 42 });
    const result = decodePdu(h('00000010', '0000ffff', '00000000', '00000001'));
    expect(result.ok === false && result.error.commandId).toBe(0xffff);
    expect(failure(h('00000010', '80000021', '00000000', '00000001')).commandStatus).toBe(ESME_RINVCMDID);
  });

  it.each([
    ['submit_sm_resp', '80000004', { message_id: '' }],
    ['deliver_sm_resp', '80000005', { message_id: '' }],
    ['data_sm_resp', '80000103', { message_id: '' }],
    ['bind_transceiver_resp', '80000009', { system_id: '' }],
    ['bind_transmitter_resp', '80000002', { system_id: '' }],
    ['bind_receiver_resp', '80000001', { system_id: '' }],
    ['query_sm_resp', '80000003', { message_id: '', final_date: '', message_state: 0, error_code: 0 }],
  ] as const)('a bare-header %s decodes with default fields', (command, id, defaults) => {
    const result = decodePdu(h('00000010', id, '00000058', '00000063'));
    expect(result).toStrictEqual({
      ok: true,
      pdu: { command, command_status: ESME_RTHROTTLED, sequence_number: 0x63, tlvs: [], ...defaults },
    });
  });

  it('a bare-header request whose body is mandatory is ESME_RINVCMDLEN, not defaults', () => {
    expect(failure(h('00000010', '00000004', '00000000', '00000001')).commandStatus).toBe(ESME_RINVCMDLEN);
    expect(failure(h('00000010', '00000002', '00000000', '00000001')).commandStatus).toBe(ESME_RINVCMDLEN);
  });

  it('never throws on a buffer shorter than the header or unlike its command_length', () => {
    const short = decodePdu(h('00000008', '00000015'));
    expect(short.ok === false && short.error.commandStatus).toBe(ESME_RINVCMDLEN);
    const empty = decodePdu(Buffer.alloc(0));
    expect(empty.ok === false && empty.error.commandStatus).toBe(ESME_RINVCMDLEN);
    // command_length says 17, 16 octets given: the body cannot be trusted
    const lying = decodePdu(h('00000011', '80000004', '00000000', '00000005'));
    expect(lying.ok).toBe(false);
    expect(lying.ok === false && lying.error).toMatchObject({ commandStatus: ESME_RINVCMDLEN, sequenceNumber: 5, command: 'submit_sm_resp' });
    // command_length says 16, 17 octets given
    const trailing = decodePdu(h('00000010', '80000004', '00000000', '00000006', '00'));
    expect(trailing.ok === false && trailing.error.commandStatus).toBe(ESME_RINVCMDLEN);
  });
});
