/**
 * Parley's codec against node-smpp (npm `smpp` 0.5.1), an independent implementation:
 * - every PDU type Parley encodes is decoded by node-smpp with equal fields, compared field by field
 *   through node-smpp's own representation (see test/support/node-smpp.ts);
 * - every PDU type node-smpp encodes is decoded by Parley into exactly the PDU written out here, and
 *   Parley re-encodes it to node-smpp's very octets.
 *
 * Known node-smpp deviations are not hidden by the comparison: each has its own test below
 * ("node-smpp deviation: ...") stating what node-smpp does and what Parley does instead.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_IDS, type CommandName } from '../../../src/smpp/commands.ts';
import {
  ESME_RINVPARLEN,
  ESME_RTHROTTLED,
  commandStatusInfo,
  commandStatusName,
} from '../../../src/smpp/command-status.ts';
import { BODY_SCHEMAS, decodePdu, encodePdu, makePdu } from '../../../src/smpp/codec.ts';
import { shortMessageFields, type Pdu, type PduOf, type ShortMessageFields } from '../../../src/smpp/pdu.ts';
import { TLV_SPECS, makeTlv, readTlv, tlvNameOf, type Tlv, type TlvName } from '../../../src/smpp/tlv.ts';
import { buildConcatUdh, decodeGsm7, decodeText, parseUdh } from '../../../src/smpp/text/index.ts';
import {
  bodyKeysOf,
  bufferField,
  dateField,
  decodeWithNodeSmpp,
  encodeWithNodeSmpp,
  fieldOf,
  messageField,
  nodeSmppCommandIds,
  nodeSmppErrors,
  nodeSmppTlvTags,
  numberField,
  stringField,
  type NodeSmppMessage,
  type NodeSmppOptions,
  type NodeSmppPdu,
} from '../../support/node-smpp.ts';

/** Parley's TLV names that node-smpp spells differently (it uses the SMPP 5.0 name). */
const NODE_SMPP_TLV_NAME: Partial<Record<TlvName, string>> = { destination_port: 'dest_port' };
const nodeNameOf = (name: TlvName): string => NODE_SMPP_TLV_NAME[name] ?? name;

/** Fields node-smpp turns into Date objects on decode (its `time` filter). */
const TIME_FIELDS = new Set(['schedule_delivery_time', 'validity_period', 'final_date']);

/** The instant an absolute SMPP time (YYMMDDhhmmsstnnp, 7.1.1) names, computed independently. */
function absoluteTimeMs(value: string): number {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+-])$/.exec(value);
  if (!m) throw new Error(`not an absolute SMPP time: ${value}`);
  const n = (i: number): number => Number(m[i]);
  const local = Date.UTC(2000 + n(1), n(2) - 1, n(3), n(4), n(5), n(6), n(7) * 100);
  const offsetMs = n(8) * 15 * 60_000;
  return m[9] === '+' ? local - offsetMs : local + offsetMs;
}

const UDHI = 0x40;

/**
 * node-smpp's reading of a short_message or message_payload, predicted from the octets:
 * data_coding & 0x0F picks its table; 0 and 1 are both read as GSM 03.38 (see the deviation test),
 * 3 as Latin-1, 8 as UTF-16BE, anything else is left as octets.
 */
function expectNodeSmppMessage(seen: NodeSmppMessage, octets: Buffer, dataCoding: number, udhParsed: boolean, where: string): void {
  let payload = octets;
  if (udhParsed) {
    const udh = parseUdh(octets);
    if (!udh.ok) throw new Error(`${where}: test PDU has a broken UDH`);
    expect(seen.udh, where).toEqual(udh.elements.map((ie) => Buffer.concat([Buffer.from([ie.iei, ie.data.length]), ie.data])));
    payload = udh.payload;
  } else {
    expect(seen.udh, where).toBeUndefined();
  }
  const table = dataCoding & 0x0f;
  if (table === 0 || table === 1 || table === 3 || table === 8) {
    // Parley reads data_coding 1 as ASCII, node-smpp as GSM 03.38: the rows use only characters on
    // which the two agree (the difference has its own deviation test). data_coding 0 is compared
    // with Parley's SMSC default set to GSM 03.38, which is what node-smpp assumes.
    const parley = decodeText(payload, dataCoding, 'gsm7');
    expect(parley.ok, where).toBe(true);
    expect(seen.message, where).toBe(parley.text);
  } else {
    expect(seen.message, where).toEqual(payload);
  }
}

/** What node-smpp must have decoded from Parley's encoding of `pdu`, field by field. */
function expectNodeSmppSees(pdu: Pdu, wire: Buffer, seen: NodeSmppPdu, decodedAt: number): void {
  const where = (field: string): string => `${pdu.command}.${field}`;
  expect(seen.command).toBe(pdu.command);
  expect(seen.command_id).toBe(COMMAND_IDS[pdu.command]);
  expect(seen.command_length).toBe(wire.length);
  expect(seen.command_status).toBe(pdu.command_status);
  expect(seen.sequence_number).toBe(pdu.sequence_number);

  const fields = pdu as unknown as Record<string, unknown>;
  const expectedKeys: string[] = [];
  for (const spec of BODY_SCHEMAS[pdu.command]) {
    if (spec.kind === 'short_message') {
      expectedKeys.push('short_message');
      const sm = pdu as PduOf<'submit_sm'>;
      expectNodeSmppMessage(
        messageField(seen, 'short_message'),
        sm.short_message,
        sm.data_coding,
        (sm.esm_class & UDHI) !== 0 && sm.short_message.length > 0,
        where('short_message'),
      );
      continue;
    }
    expectedKeys.push(spec.name);
    const value = fields[spec.name];
    if (spec.kind === 'u8') {
      expect(numberField(seen, spec.name), where(spec.name)).toBe(value);
    } else if (TIME_FIELDS.has(spec.name) && value !== '') {
      const time = String(value);
      const date = dateField(seen, spec.name);
      if (time.endsWith('R')) {
        // node-smpp resolves a relative time against its own clock at decode time; the rows use
        // one day ("000001000000000R"), so the instant must lie one day after the decode.
        expect(time, where(spec.name)).toBe('000001000000000R');
        expect(Math.abs(date.getTime() - (decodedAt + 86_400_000)), where(spec.name)).toBeLessThan(3_600_000 + 5_000);
      } else {
        expect(date.getTime(), where(spec.name)).toBe(absoluteTimeMs(time));
      }
    } else {
      expect(stringField(seen, spec.name), where(spec.name)).toBe(value);
    }
  }

  const sm = pdu.command === 'submit_sm' || pdu.command === 'deliver_sm' ? pdu : undefined;
  for (const tlv of pdu.tlvs) {
    const name = tlvNameOf(tlv.tag);
    if (name === undefined) {
      // node-smpp keeps an unknown TLV on decode under its numeric tag (it drops it on re-encode:
      // see the deviation test).
      expectedKeys.push(String(tlv.tag));
      expect(bufferField(seen, String(tlv.tag)), `vendor TLV 0x${tlv.tag.toString(16)}`).toEqual(tlv.value);
      continue;
    }
    const key = nodeNameOf(name);
    expectedKeys.push(key);
    const kind = TLV_SPECS[name].kind;
    switch (kind) {
      case 'u8':
      case 'u16':
      case 'u32':
        expect(numberField(seen, key), where(key)).toBe(readTlv(pdu.tlvs, name));
        break;
      case 'cstring':
        expect(stringField(seen, key), where(key)).toBe(readTlv(pdu.tlvs, name));
        break;
      case 'network_error': {
        // node-smpp has no reader for it and hands over the three octets.
        const raw = bufferField(seen, key);
        expect(raw, where(key)).toEqual(tlv.value);
        expect({ networkType: raw.readUInt8(0), errorCode: raw.readUInt16BE(1) }).toEqual(readTlv(pdu.tlvs, 'network_error_code'));
        break;
      }
      case 'octets':
        if (name === 'message_payload') {
          const dataCoding = (pdu as { data_coding?: number }).data_coding ?? 0;
          // node-smpp looks for a UDH in message_payload only when short_message decoded empty.
          const smEmpty = sm === undefined || sm.short_message.length === 0;
          const esmClass = (pdu as { esm_class?: number }).esm_class ?? 0;
          expectNodeSmppMessage(messageField(seen, key), tlv.value, dataCoding, smEmpty && (esmClass & UDHI) !== 0, where(key));
        } else {
          expect(bufferField(seen, key), where(key)).toEqual(tlv.value);
        }
        break;
      case 'flag':
        throw new Error(`${name}: flags are not comparable (see the alert_on_message_delivery deviation test)`);
    }
  }
  expect(bodyKeysOf(seen).sort(), `${pdu.command}: node-smpp fields`).toEqual([...new Set(expectedKeys)].sort());
}

// ------------------------------------------------------------------------------- Parley -> node-smpp

const bindFields = {
  system_id: 'parley',
  password: 'secret',
  system_type: 'VMA',
  interface_version: 0x34,
  addr_ton: 1,
  addr_npi: 1,
  address_range: '^44',
};

const receipt: ShortMessageFields = shortMessageFields({
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '447700900123',
  dest_addr_ton: 5,
  destination_addr: 'Parley',
  esm_class: 0x04,
  short_message: Buffer.from('id:abc123 sub:001 dlvrd:001 stat:DELIVRD err:000 text:Hello', 'latin1'),
});

const PARLEY_PDUS: readonly Pdu[] = [
  makePdu('bind_transmitter', { ...bindFields, sequence_number: 1 }),
  makePdu('bind_receiver', { ...bindFields, system_type: '', sequence_number: 2 }),
  makePdu('bind_transceiver', { ...bindFields, address_range: '', sequence_number: 0x7fffffff }),
  makePdu('bind_transmitter_resp', { system_id: 'SMSC', sequence_number: 1, tlvs: [makeTlv('sc_interface_version', 0x34)] }),
  makePdu('bind_receiver_resp', { system_id: 'SMSC', sequence_number: 2 }),
  makePdu('bind_transceiver_resp', { system_id: 'SMSC', sequence_number: 3, tlvs: [makeTlv('sc_interface_version', 0x34)] }),
  makePdu('outbind', { system_id: 'smsc', password: 'pw', sequence_number: 4 }),
  makePdu('unbind', { sequence_number: 5 }),
  makePdu('unbind_resp', { sequence_number: 5 }),
  makePdu('enquire_link', { sequence_number: 6 }),
  makePdu('enquire_link_resp', { sequence_number: 6 }),
  makePdu('generic_nack', { sequence_number: 7, command_status: 0x00000003 }),
  makePdu('submit_sm', {
    ...shortMessageFields({
      source_addr_ton: 5,
      source_addr: 'Parley',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      registered_delivery: 1,
      priority_flag: 1,
      schedule_delivery_time: '250101120000004+',
      validity_period: '000001000000000R',
      short_message: Buffer.from('Hello from Parley 123', 'latin1'),
    }),
    sequence_number: 8,
    tlvs: [makeTlv('user_message_reference', 0x0102), makeTlv('destination_port', 2948), makeTlv('source_port', 9200)],
  }),
  makePdu('submit_sm', {
    ...shortMessageFields({
      destination_addr: '447700900124',
      esm_class: UDHI,
      data_coding: 8,
      short_message: Buffer.concat([buildConcatUdh(0xaa, 2, 1, 8), Buffer.from('0416043d0020', 'hex')]), // "Жн "
    }),
    sequence_number: 9,
  }),
  makePdu('submit_sm', {
    ...shortMessageFields({ destination_addr: '447700900125', data_coding: 3, short_message: Buffer.from('café ñ', 'latin1') }),
    sequence_number: 10,
    tlvs: [makeTlv('sar_msg_ref_num', 0x1234), makeTlv('sar_total_segments', 3), makeTlv('sar_segment_seqnum', 2)],
  }),
  makePdu('submit_sm', {
    ...shortMessageFields({ destination_addr: '447700900126', data_coding: 4, short_message: Buffer.from([0x00, 0xff, 0x80, 0x1b]) }),
    sequence_number: 11,
  }),
  makePdu('submit_sm', {
    ...shortMessageFields({ destination_addr: '447700900127', data_coding: 8, validity_period: '251231235959908-' }),
    sequence_number: 12,
    tlvs: [makeTlv('message_payload', Buffer.from('0048006900200077006f0072006c0064', 'hex')), makeTlv('qos_time_to_live', 3600)],
  }),
  makePdu('submit_sm_resp', { message_id: 'abc123', sequence_number: 8 }),
  makePdu('submit_sm_resp', { message_id: '', sequence_number: 9, command_status: ESME_RTHROTTLED }),
  makePdu('deliver_sm', {
    ...receipt,
    sequence_number: 13,
    tlvs: [
      makeTlv('receipted_message_id', 'abc123'),
      makeTlv('message_state', 2),
      makeTlv('network_error_code', { networkType: 3, errorCode: 0x0022 }),
    ],
  }),
  makePdu('deliver_sm', {
    ...shortMessageFields({ source_addr: '447700900123', destination_addr: '12345', data_coding: 1, short_message: Buffer.from('Re: yes, OK!', 'latin1') }),
    sequence_number: 14,
    tlvs: [makeTlv('user_message_reference', 7)],
  }),
  makePdu('deliver_sm_resp', { message_id: '', sequence_number: 13 }),
  makePdu('data_sm', {
    service_type: 'WAP',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900123',
    dest_addr_ton: 5,
    dest_addr_npi: 0,
    destination_addr: 'Parley',
    esm_class: 0,
    registered_delivery: 1,
    data_coding: 0,
    sequence_number: 15,
    tlvs: [makeTlv('message_payload', Buffer.from('Hi there', 'latin1')), { tag: 0x1401, value: Buffer.from('c0ffee', 'hex') }],
  }),
  makePdu('data_sm_resp', { message_id: 'd-1', sequence_number: 15, tlvs: [makeTlv('additional_status_info_text', 'ok')] }),
  makePdu('query_sm', { message_id: 'abc123', source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900001', sequence_number: 16 }),
  makePdu('query_sm_resp', { message_id: 'abc123', final_date: '250101120500000+', message_state: 2, error_code: 0, sequence_number: 16 }),
  makePdu('query_sm_resp', { message_id: 'abc124', final_date: '', message_state: 1, error_code: 0, sequence_number: 17 }),
  makePdu('alert_notification', {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900123',
    esme_addr_ton: 5,
    esme_addr_npi: 0,
    esme_addr: 'Parley',
    sequence_number: 18,
    tlvs: [makeTlv('ms_availability_status', 0)],
  }),
];

describe('interop: Parley encodes, node-smpp decodes', () => {
  it('the table covers every command', () => {
    expect([...new Set(PARLEY_PDUS.map((p) => p.command))].sort()).toEqual(Object.keys(COMMAND_IDS).sort());
  });

  it.each(PARLEY_PDUS.map((pdu, i) => [`${i}: ${pdu.command}`, pdu] as const))('%s', (_label, pdu) => {
    const wire = encodePdu(pdu);
    const decodedAt = Date.now();
    const seen = decodeWithNodeSmpp(wire);
    expectNodeSmppSees(pdu, wire, seen, decodedAt);
  });
});

// ------------------------------------------------------------------------------- node-smpp -> Parley

interface FromNodeSmpp {
  readonly label: string;
  readonly command: CommandName;
  readonly options: NodeSmppOptions;
  /** The PDU Parley must decode, written out by hand (node-smpp defaults noted where they apply). */
  readonly expected: Pdu;
  /**
   * Where Parley's encoding of `expected` is not node-smpp's octets: node-smpp sends an error
   * response as a bare header, Parley sends the body (empty C-strings) as well.
   */
  readonly parleyReencodes?: string;
}

const tlv = (tag: number, hex: string): Tlv => ({ tag, value: Buffer.from(hex, 'hex') });
const nodeBind = { system_id: 'esme', password: 'pw', system_type: 'CMT', interface_version: 0x34, addr_ton: 2, addr_npi: 8, address_range: '' };
const parleyBind = { ...nodeBind, command_status: 0, tlvs: [] };

const FROM_NODE_SMPP: readonly FromNodeSmpp[] = [
  {
    label: 'bind_transmitter',
    command: 'bind_transmitter',
    options: { ...nodeBind, sequence_number: 1 },
    expected: { command: 'bind_transmitter', sequence_number: 1, ...parleyBind },
  },
  {
    label: 'bind_receiver',
    command: 'bind_receiver',
    options: { ...nodeBind, address_range: '^44', sequence_number: 2 },
    expected: { command: 'bind_receiver', sequence_number: 2, ...parleyBind, address_range: '^44' },
  },
  {
    label: 'bind_transceiver',
    command: 'bind_transceiver',
    options: { ...nodeBind, sequence_number: 3 },
    expected: { command: 'bind_transceiver', sequence_number: 3, ...parleyBind },
  },
  {
    label: 'bind_transmitter_resp with sc_interface_version',
    command: 'bind_transmitter_resp',
    options: { system_id: 'nsmsc', sc_interface_version: 0x34, sequence_number: 1 },
    expected: { command: 'bind_transmitter_resp', command_status: 0, sequence_number: 1, system_id: 'nsmsc', tlvs: [tlv(0x0210, '34')] },
  },
  {
    label: 'bind_receiver_resp refused: node-smpp sends a bare header',
    command: 'bind_receiver_resp',
    options: { command_status: 0x0e, sequence_number: 2, system_id: 'ignored' },
    expected: { command: 'bind_receiver_resp', command_status: 0x0e, sequence_number: 2, system_id: '', tlvs: [] },
    parleyReencodes: '00000011' + '80000001' + '0000000e' + '00000002' + '00',
  },
  {
    label: 'bind_transceiver_resp',
    command: 'bind_transceiver_resp',
    options: { system_id: 'nsmsc', sequence_number: 3 },
    expected: { command: 'bind_transceiver_resp', command_status: 0, sequence_number: 3, system_id: 'nsmsc', tlvs: [] },
  },
  {
    label: 'outbind',
    command: 'outbind',
    options: { system_id: 'nsmsc', password: 'pw', sequence_number: 4 },
    expected: { command: 'outbind', command_status: 0, sequence_number: 4, system_id: 'nsmsc', password: 'pw', tlvs: [] },
  },
  {
    label: 'unbind',
    command: 'unbind',
    options: { sequence_number: 5 },
    expected: { command: 'unbind', command_status: 0, sequence_number: 5, tlvs: [] },
  },
  {
    label: 'unbind_resp',
    command: 'unbind_resp',
    options: { sequence_number: 5 },
    expected: { command: 'unbind_resp', command_status: 0, sequence_number: 5, tlvs: [] },
  },
  {
    label: 'enquire_link',
    command: 'enquire_link',
    options: { sequence_number: 6 },
    expected: { command: 'enquire_link', command_status: 0, sequence_number: 6, tlvs: [] },
  },
  {
    label: 'enquire_link_resp',
    command: 'enquire_link_resp',
    options: { sequence_number: 6 },
    expected: { command: 'enquire_link_resp', command_status: 0, sequence_number: 6, tlvs: [] },
  },
  {
    label: 'generic_nack',
    command: 'generic_nack',
    options: { command_status: 3, sequence_number: 7 },
    expected: { command: 'generic_nack', command_status: 3, sequence_number: 7, tlvs: [] },
  },
  {
    label: 'submit_sm with octets, Date times and TLVs (in option order)',
    command: 'submit_sm',
    options: {
      sequence_number: 8,
      service_type: 'CMT',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'Parley',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 1,
      // node-smpp writes a Date as UTC with tenths, "00+" offset
      schedule_delivery_time: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 600)),
      // and passes a 16-character string through
      validity_period: '000001000000000R',
      registered_delivery: 1,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from('Hello', 'latin1'),
      user_message_reference: 0x0102,
      sar_msg_ref_num: 0xbeef,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    },
    expected: {
      command: 'submit_sm',
      command_status: 0,
      sequence_number: 8,
      service_type: 'CMT',
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'Parley',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 1,
      schedule_delivery_time: '250102030405600+',
      validity_period: '000001000000000R',
      registered_delivery: 1,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from('48656c6c6f', 'hex'),
      tlvs: [tlv(0x0204, '0102'), tlv(0x020c, 'beef'), tlv(0x020e, '02'), tlv(0x020f, '01')],
    },
  },
  {
    label: 'submit_sm with a UCS-2 string and a UDH (node-smpp sets UDHI itself)',
    command: 'submit_sm',
    options: {
      sequence_number: 9,
      destination_addr: '447700900124',
      data_coding: 8,
      short_message: { udh: Buffer.from('050003aa0201', 'hex'), message: 'Жук' },
    },
    expected: {
      command: 'submit_sm',
      ...shortMessageFields({
        destination_addr: '447700900124',
        esm_class: UDHI,
        data_coding: 8,
        short_message: Buffer.from('050003aa0201' + '04160443043a', 'hex'),
      }),
      command_status: 0,
      sequence_number: 9,
      tlvs: [],
    },
  },
  {
    label: 'submit_sm with a Latin-1 string and message_payload left empty',
    command: 'submit_sm',
    options: { sequence_number: 10, destination_addr: '447700900125', data_coding: 3, short_message: 'café' },
    expected: {
      command: 'submit_sm',
      ...shortMessageFields({ destination_addr: '447700900125', data_coding: 3, short_message: Buffer.from('636166e9', 'hex') }),
      command_status: 0,
      sequence_number: 10,
      tlvs: [],
    },
  },
  {
    label: 'submit_sm_resp',
    command: 'submit_sm_resp',
    options: { message_id: 'n-42', sequence_number: 8 },
    expected: { command: 'submit_sm_resp', command_status: 0, sequence_number: 8, message_id: 'n-42', tlvs: [] },
  },
  {
    label: 'submit_sm_resp throttled: node-smpp sends a bare header',
    command: 'submit_sm_resp',
    options: { command_status: ESME_RTHROTTLED, sequence_number: 9, message_id: 'dropped' },
    expected: { command: 'submit_sm_resp', command_status: ESME_RTHROTTLED, sequence_number: 9, message_id: '', tlvs: [] },
    parleyReencodes: '00000011' + '80000004' + '00000058' + '00000009' + '00',
  },
  {
    label: 'deliver_sm receipt with receipted_message_id, message_state, network_error_code',
    command: 'deliver_sm',
    options: {
      sequence_number: 11,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      destination_addr: 'Parley',
      esm_class: 0x04,
      short_message: Buffer.from('id:n-42 stat:DELIVRD', 'latin1'),
      receipted_message_id: 'n-42',
      message_state: 2,
      network_error_code: Buffer.from('030000', 'hex'),
    },
    expected: {
      command: 'deliver_sm',
      ...shortMessageFields({
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '447700900123',
        destination_addr: 'Parley',
        esm_class: 0x04,
        short_message: Buffer.from('id:n-42 stat:DELIVRD', 'latin1'),
      }),
      command_status: 0,
      sequence_number: 11,
      tlvs: [tlv(0x001e, '6e2d343200'), tlv(0x0427, '02'), tlv(0x0423, '030000')],
    },
  },
  {
    label: 'deliver_sm_resp',
    command: 'deliver_sm_resp',
    options: { sequence_number: 11 },
    expected: { command: 'deliver_sm_resp', command_status: 0, sequence_number: 11, message_id: '', tlvs: [] },
  },
  {
    label: 'data_sm with a binary message_payload and dest_port',
    command: 'data_sm',
    options: {
      sequence_number: 12,
      service_type: 'WAP',
      source_addr: '447700900123',
      destination_addr: 'Parley',
      registered_delivery: 1,
      data_coding: 4,
      message_payload: Buffer.from('0001020304', 'hex'),
      dest_port: 2948,
    },
    expected: {
      command: 'data_sm',
      command_status: 0,
      sequence_number: 12,
      service_type: 'WAP',
      source_addr_ton: 0,
      source_addr_npi: 0,
      source_addr: '447700900123',
      dest_addr_ton: 0,
      dest_addr_npi: 0,
      destination_addr: 'Parley',
      esm_class: 0,
      registered_delivery: 1,
      data_coding: 4,
      tlvs: [tlv(0x0424, '0001020304'), tlv(0x020b, '0b84')],
    },
  },
  {
    label: 'data_sm_resp',
    command: 'data_sm_resp',
    options: { message_id: 'd-9', sequence_number: 12 },
    expected: { command: 'data_sm_resp', command_status: 0, sequence_number: 12, message_id: 'd-9', tlvs: [] },
  },
  {
    label: 'query_sm',
    command: 'query_sm',
    options: { message_id: 'n-42', source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900001', sequence_number: 13 },
    expected: {
      command: 'query_sm',
      command_status: 0,
      sequence_number: 13,
      message_id: 'n-42',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900001',
      tlvs: [],
    },
  },
  {
    label: 'query_sm_resp with an absolute final_date string',
    command: 'query_sm_resp',
    options: { message_id: 'n-42', final_date: '250101120500000+', message_state: 2, error_code: 0, sequence_number: 13 },
    expected: {
      command: 'query_sm_resp',
      command_status: 0,
      sequence_number: 13,
      message_id: 'n-42',
      final_date: '250101120500000+',
      message_state: 2,
      error_code: 0,
      tlvs: [],
    },
  },
  {
    label: 'alert_notification',
    command: 'alert_notification',
    options: {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      esme_addr_ton: 5,
      esme_addr_npi: 0,
      esme_addr: 'Parley',
      ms_availability_status: 1,
      sequence_number: 14,
    },
    expected: {
      command: 'alert_notification',
      command_status: 0,
      sequence_number: 14,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      esme_addr_ton: 5,
      esme_addr_npi: 0,
      esme_addr: 'Parley',
      tlvs: [tlv(0x0422, '01')],
    },
  },
];

describe('interop: node-smpp encodes, Parley decodes', () => {
  it('the table covers every command', () => {
    expect([...new Set(FROM_NODE_SMPP.map((r) => r.command))].sort()).toEqual(Object.keys(COMMAND_IDS).sort());
  });

  it.each(FROM_NODE_SMPP)('$label', ({ command, options, expected, parleyReencodes }) => {
    const wire = encodeWithNodeSmpp(command, options);
    expect(wire.readUInt32BE(0)).toBe(wire.length);
    const result = decodePdu(wire);
    expect(result).toStrictEqual({ ok: true, pdu: expected });
    // and Parley writes the same PDU back as node-smpp's very octets (bare error headers aside)
    expect(encodePdu(expected).toString('hex')).toBe(parleyReencodes ?? wire.toString('hex'));
  });
});

// ------------------------------------------------------------------------------- shared tables

describe('interop: shared tables agree', () => {
  it('every Parley command_id is node-smpp\'s', () => {
    for (const [name, id] of Object.entries(COMMAND_IDS)) expect(nodeSmppCommandIds[name], name).toBe(id);
  });

  it('every Parley TLV tag is node-smpp\'s (destination_port is its dest_port)', () => {
    for (const [name, spec] of Object.entries(TLV_SPECS) as [TlvName, { tag: number }][]) {
      expect(nodeSmppTlvTags[nodeNameOf(name)], name).toBe(spec.tag);
    }
  });

  it('every command_status node-smpp names has the same meaning in Parley\'s table', () => {
    // node-smpp uses the SMPP 5.0 names for 0xC0-0xC4 (ESME_RINVTLVSTREAM...) and lists 5.0-only
    // codes (0x100 and up) that Parley's 3.4 table leaves to the unlisted/permanent rule.
    const renamed: Record<string, string> = {
      ESME_RINVTLVSTREAM: 'ESME_RINVOPTPARSTREAM',
      ESME_RTLVNOTALLWD: 'ESME_ROPTPARNOTALLWD',
      ESME_RINVTLVLEN: 'ESME_RINVPARLEN',
      ESME_RMISSINGTLV: 'ESME_RMISSINGOPTPARAM',
      ESME_RINVTLVVAL: 'ESME_RINVOPTPARAMVAL',
    };
    let compared = 0;
    for (const [name, code] of Object.entries(nodeSmppErrors)) {
      if (code >= 0x100) {
        expect(commandStatusInfo(code).policy, name).toBe('permanent');
        continue;
      }
      expect(commandStatusName(code), name).toBe(renamed[name] ?? name);
      compared++;
    }
    expect(compared).toBe(48);
  });
});

// ------------------------------------------------------------------------------- deviations

describe('interop: node-smpp deviations, stated', () => {
  it('node-smpp deviation: an unknown TLV is kept on decode but dropped when it re-encodes', () => {
    const pdu = makePdu('submit_sm_resp', { message_id: 'x', sequence_number: 1, tlvs: [{ tag: 0x1401, value: Buffer.from('c0ffee', 'hex') }] });
    const wire = encodePdu(pdu);
    const seen = decodeWithNodeSmpp(wire);
    expect(bufferField(seen, '5121')).toEqual(Buffer.from('c0ffee', 'hex'));
    const again = seen.toBuffer();
    expect(again.toString('hex')).toBe('00000012' + '80000004' + '00000000' + '00000001' + '7800');
    // Parley keeps it: decode + encode gives the original octets back.
    const parley = decodePdu(wire);
    expect(parley.ok && encodePdu(parley.pdu).equals(wire)).toBe(true);
  });

  it('node-smpp deviation: data_coding 1 (IA5/ASCII) is read with the GSM 03.38 table', () => {
    const pdu = makePdu('deliver_sm', {
      ...shortMessageFields({ destination_addr: '1', data_coding: 1, short_message: Buffer.from('a@b$c_', 'latin1') }),
    });
    const seen = decodeWithNodeSmpp(encodePdu(pdu));
    // 0x40, 0x24, 0x5F are '¡', '¤', '§' in GSM 03.38 but '@', '$', '_' in IA5.
    expect(messageField(seen, 'short_message').message).toBe('a¡b¤c§');
    const parley = decodePdu(encodePdu(pdu));
    expect(parley.ok && parley.pdu.command === 'deliver_sm' && decodeText(parley.pdu.short_message, 1, 'gsm7')).toMatchObject({
      ok: true,
      text: 'a@b$c_',
    });
  });

  it('node-smpp deviation: a string with no data_coding goes out as GSM 03.38 octets labelled data_coding 1', () => {
    const wire = encodeWithNodeSmpp('submit_sm', { destination_addr: '1', short_message: 'a@b$ü€' });
    const result = decodePdu(wire);
    if (!result.ok || result.pdu.command !== 'submit_sm') throw new Error('expected a submit_sm');
    expect(result.pdu.data_coding).toBe(1);
    expect(result.pdu.short_message.toString('hex')).toBe('61' + '00' + '62' + '02' + '7e' + '1b65');
    // The octets are GSM 03.38 (so the text survives only for a reader that ignores the label) ...
    expect(decodeGsm7(result.pdu.short_message)).toBe('a@b$ü€');
    // ... while IA5, what data_coding 1 announces, cannot read them back.
    expect(decodeText(result.pdu.short_message, 1, 'gsm7')).not.toMatchObject({ text: 'a@b$ü€' });
  });

  it('node-smpp deviation: bind interface_version defaults to 0x50 (SMPP 5.0)', () => {
    const result = decodePdu(encodeWithNodeSmpp('bind_transceiver', { system_id: 'a', password: 'b' }));
    expect(result.ok && result.pdu.command === 'bind_transceiver' && result.pdu.interface_version).toBe(0x50);
  });

  it('node-smpp deviation: alert_on_message_delivery is written with one octet (5.0); 3.4 defines it empty', () => {
    const wire = encodeWithNodeSmpp('data_sm', { destination_addr: '1', alert_on_message_delivery: 1, sequence_number: 3 });
    expect(wire.subarray(wire.length - 5).toString('hex')).toBe('130c' + '0001' + '01');
    const result = decodePdu(wire);
    expect(result.ok === false && result.error).toMatchObject({ commandStatus: ESME_RINVPARLEN, sequenceNumber: 3 });
    // And Parley's empty flag, read by node-smpp as an int8, swallows the next TLV's first octet:
    const parley = makePdu('data_sm', {
      service_type: '',
      source_addr_ton: 0,
      source_addr_npi: 0,
      source_addr: '',
      dest_addr_ton: 0,
      dest_addr_npi: 0,
      destination_addr: '1',
      esm_class: 0,
      registered_delivery: 0,
      data_coding: 0,
      tlvs: [makeTlv('alert_on_message_delivery', true), makeTlv('message_state', 2)],
    });
    const seen = decodeWithNodeSmpp(encodePdu(parley));
    expect(fieldOf(seen, 'alert_on_message_delivery')).toBe(0x04); // first octet of tag 0x0427
    expect(numberField(seen, 'message_state')).toBe(2);
  });

  it('node-smpp deviation: source_telematics_id is two octets there, one in Parley (implementations disagree)', () => {
    const wire = encodeWithNodeSmpp('data_sm', { destination_addr: '1', source_telematics_id: 1, sequence_number: 4 });
    expect(wire.subarray(wire.length - 6).toString('hex')).toBe('0010' + '0002' + '0001');
    const result = decodePdu(wire);
    expect(result.ok === false && result.error.commandStatus).toBe(ESME_RINVPARLEN);
  });

  it('node-smpp deviation: times come out as Date objects, relative ones resolved against its clock', () => {
    const pdu = makePdu('query_sm_resp', { message_id: 'm', final_date: '250601093000012-', message_state: 2, error_code: 0 });
    const seen = decodeWithNodeSmpp(encodePdu(pdu));
    // 09:30:00.0 at UTC-3h (12 quarter hours behind) is 12:30:00.0 UTC
    expect(dateField(seen, 'final_date').toISOString()).toBe('2025-06-01T12:30:00.000Z');
  });
});
