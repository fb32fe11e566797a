import { describe, expect, it } from 'vitest';
import { TLV_SPECS, checkTlvValue, makeTlv, readTlv, tlvNameOf, withTlv, type Tlv } from '../../../src/smpp/tlv.ts';

const t = (tag: number, hex: string): Tlv => ({ tag, value: Buffer.from(hex, 'hex') });
const hexOf = (tlv: Tlv): string => `${tlv.tag.toString(16).padStart(4, '0')}:${tlv.value.toString('hex')}`;

describe('TLV_SPECS', () => {
  it('carries the SMPP 3.4 tags (section 5.3.2), written out here by hand', () => {
    const expected: Record<string, number> = {
      dest_addr_subunit: 0x0005,
      dest_network_type: 0x0006,
      dest_bearer_type: 0x0007,
      dest_telematics_id: 0x0008,
      source_addr_subunit: 0x000d,
      source_network_type: 0x000e,
      source_bearer_type: 0x000f,
      source_telematics_id: 0x0010,
      qos_time_to_live: 0x0017,
      payload_type: 0x0019,
      additional_status_info_text: 0x001d,
      receipted_message_id: 0x001e,
      ms_msg_wait_facilities: 0x0030,
      privacy_indicator: 0x0201,
      source_subaddress: 0x0202,
      dest_subaddress: 0x0203,
      user_message_reference: 0x0204,
      user_response_code: 0x0205,
      source_port: 0x020a,
      destination_port: 0x020b,
      sar_msg_ref_num: 0x020c,
      language_indicator: 0x020d,
      sar_total_segments: 0x020e,
      sar_segment_seqnum: 0x020f,
      sc_interface_version: 0x0210,
      callback_num_pres_ind: 0x0302,
      callback_num_atag: 0x0303,
      number_of_messages: 0x0304,
      callback_num: 0x0381,
      dpf_result: 0x0420,
      set_dpf: 0x0421,
      ms_availability_status: 0x0422,
      network_error_code: 0x0423,
      message_payload: 0x0424,
      delivery_failure_reason: 0x0425,
      more_messages_to_send: 0x0426,
      message_state: 0x0427,
      ussd_service_op: 0x0501,
      display_time: 0x1201,
      sms_signal: 0x1203,
      ms_validity: 0x1204,
      alert_on_message_delivery: 0x130c,
      its_reply_type: 0x1380,
      its_session_info: 0x1383,
    };
    const actual = Object.fromEntries(Object.entries(TLV_SPECS).map(([name, spec]) => [name, spec.tag]));
    expect(actual).toEqual(expected);
  });

  it('tlvNameOf maps tags back to names, and vendor tags to undefined', () => {
    expect(tlvNameOf(0x001e)).toBe('receipted_message_id');
    expect(tlvNameOf(0x0427)).toBe('message_state');
    expect(tlvNameOf(0x1401)).toBeUndefined();
    expect(tlvNameOf(0x0000)).toBeUndefined();
  });
});

describe('makeTlv', () => {
  it.each([
    ['message_state', 2, '0427:02'],
    ['sar_total_segments', 255, '020e:ff'],
    ['sc_interface_version', 0x34, '0210:34'],
    ['sar_msg_ref_num', 0xabcd, '020c:abcd'],
    ['user_message_reference', 0, '0204:0000'],
    ['destination_port', 2948, '020b:0b84'],
    ['qos_time_to_live', 0xffffffff, '0017:ffffffff'],
    ['qos_time_to_live', 86_400, '0017:00015180'],
  ] as const)('%s = %i is %s', (name, value, expected) => {
    expect(hexOf(makeTlv(name, value))).toBe(expected);
  });

  it('writes a C-Octet String with its NUL', () => {
    expect(hexOf(makeTlv('receipted_message_id', 'abc123'))).toBe('001e:61626331323300');
    expect(hexOf(makeTlv('receipted_message_id', ''))).toBe('001e:00');
    expect(hexOf(makeTlv('additional_status_info_text', 'é'))).toBe('001d:e900');
  });

  it('receipted_message_id takes 64 characters, not 65', () => {
    expect(makeTlv('receipted_message_id', 'x'.repeat(64)).value.length).toBe(65);
    expect(() => makeTlv('receipted_message_id', 'x'.repeat(65))).toThrow(RangeError);
  });

  it('refuses a C-Octet String value it cannot carry (NUL inside, or above U+00FF)', () => {
    expect(() => makeTlv('receipted_message_id', 'ab\0cd')).toThrow(RangeError);
    expect(() => makeTlv('receipted_message_id', 'id-€')).toThrow(RangeError);
  });

  it('copies octets, so the caller may reuse its buffer', () => {
    const payload = Buffer.from('hello');
    const tlv = makeTlv('message_payload', payload);
    payload.fill(0);
    expect(hexOf(tlv)).toBe('0424:68656c6c6f');
  });

  it('message_payload holds up to 65535 octets', () => {
    expect(makeTlv('message_payload', Buffer.alloc(0xffff)).value.length).toBe(0xffff);
    expect(() => makeTlv('message_payload', Buffer.alloc(0x10000))).toThrow(RangeError);
    expect(() => makeTlv('source_subaddress', Buffer.alloc(24))).toThrow(RangeError);
  });

  it('writes network_error_code as type octet + 2-octet code, and the flag as empty', () => {
    expect(hexOf(makeTlv('network_error_code', { networkType: 3, errorCode: 0x0022 }))).toBe('0423:030022');
    expect(hexOf(makeTlv('network_error_code', { networkType: 1, errorCode: 0xffff }))).toBe('0423:01ffff');
    expect(hexOf(makeTlv('alert_on_message_delivery', true))).toBe('130c:');
    expect(() => makeTlv('network_error_code', { networkType: 3, errorCode: 0x10000 })).toThrow(RangeError);
    expect(() => makeTlv('network_error_code', { networkType: 256, errorCode: 1 })).toThrow(RangeError);
  });

  it.each([
    ['message_state', 256],
    ['message_state', -1],
    ['message_state', 1.5],
    ['sar_msg_ref_num', 0x10000],
    ['qos_time_to_live', 2 ** 32],
  ] as const)('refuses %s = %s', (name, value) => {
    expect(() => makeTlv(name, value)).toThrow(RangeError);
  });
});

describe('readTlv', () => {
  it('reads each kind back from raw octets', () => {
    const tlvs = [
      t(0x0427, '02'),
      t(0x020c, '1234'),
      t(0x0017, '00015180'),
      t(0x001e, '61626300'),
      t(0x0423, '030022'),
      t(0x130c, ''),
      t(0x0424, 'cafe'),
    ];
    expect(readTlv(tlvs, 'message_state')).toBe(2);
    expect(readTlv(tlvs, 'sar_msg_ref_num')).toBe(0x1234);
    expect(readTlv(tlvs, 'qos_time_to_live')).toBe(86_400);
    expect(readTlv(tlvs, 'receipted_message_id')).toBe('abc');
    expect(readTlv(tlvs, 'network_error_code')).toEqual({ networkType: 3, errorCode: 0x22 });
    expect(readTlv(tlvs, 'alert_on_message_delivery')).toBe(true);
    expect(readTlv(tlvs, 'message_payload')).toEqual(Buffer.from([0xca, 0xfe]));
  });

  it('reads a receipted_message_id without its NUL terminator whole', () => {
    expect(readTlv([t(0x001e, '3037653461623132')], 'receipted_message_id')).toBe('07e4ab12');
  });

  it('stops a C-Octet String at its first NUL', () => {
    expect(readTlv([t(0x001e, '616200636400')], 'receipted_message_id')).toBe('ab');
  });

  it('reads Latin-1 octets in a C-Octet String as themselves', () => {
    expect(readTlv([t(0x001d, 'e9e800')], 'additional_status_info_text')).toBe('éè');
  });

  it('is undefined when the TLV is absent or malformed', () => {
    expect(readTlv([], 'message_state')).toBeUndefined();
    expect(readTlv([t(0x0427, '0002')], 'message_state')).toBeUndefined();
    expect(readTlv([t(0x0423, '0300')], 'network_error_code')).toBeUndefined();
    expect(readTlv([t(0x001e, '61'.repeat(66))], 'receipted_message_id')).toBeUndefined();
  });

  it('takes the first of repeated TLVs', () => {
    expect(readTlv([t(0x0427, '02'), t(0x0427, '05')], 'message_state')).toBe(2);
  });

  it('returns octets as a copy', () => {
    const tlvs = [t(0x0424, 'cafe')];
    const read = readTlv(tlvs, 'message_payload');
    read?.fill(0);
    expect(tlvs[0]?.value.toString('hex')).toBe('cafe');
  });

  it('round-trips makeTlv for every kind', () => {
    const list = [
      makeTlv('message_state', 7),
      makeTlv('sms_signal', 0x0102),
      makeTlv('qos_time_to_live', 123_456),
      makeTlv('receipted_message_id', 'MSG-1'),
      makeTlv('network_error_code', { networkType: 2, errorCode: 999 }),
      makeTlv('alert_on_message_delivery', true),
      makeTlv('callback_num', Buffer.from('0001313233', 'hex')),
    ];
    expect(readTlv(list, 'message_state')).toBe(7);
    expect(readTlv(list, 'sms_signal')).toBe(0x0102);
    expect(readTlv(list, 'qos_time_to_live')).toBe(123_456);
    expect(readTlv(list, 'receipted_message_id')).toBe('MSG-1');
    expect(readTlv(list, 'network_error_code')).toEqual({ networkType: 2, errorCode: 999 });
    expect(readTlv(list, 'alert_on_message_delivery')).toBe(true);
    expect(readTlv(list, 'callback_num')).toEqual(Buffer.from('0001313233', 'hex'));
  });
});

describe('withTlv', () => {
  it('appends a TLV that is not there, leaving the input alone', () => {
    const input = [t(0x1401, 'beef')];
    const out = withTlv(input, 'message_state', 2);
    expect(out.map(hexOf)).toEqual(['1401:beef', '0427:02']);
    expect(input.map(hexOf)).toEqual(['1401:beef']);
  });

  it('replaces every TLV of that tag and keeps the others in order', () => {
    const input = [t(0x0427, '01'), t(0x1401, 'beef'), t(0x0427, '03'), t(0x001e, '6100')];
    const out = withTlv(input, 'message_state', 5);
    expect(out.map(hexOf)).toEqual(['1401:beef', '001e:6100', '0427:05']);
    expect(readTlv(out, 'message_state')).toBe(5);
  });

  it('throws like makeTlv on a value that does not fit', () => {
    expect(() => withTlv([], 'sar_total_segments', 256)).toThrow(RangeError);
  });
});

describe('checkTlvValue', () => {
  it('accepts vendor TLVs of any length and right-sized known ones', () => {
    expect(checkTlvValue(t(0x1401, ''))).toBeUndefined();
    expect(checkTlvValue(t(0x1401, '00'.repeat(300)))).toBeUndefined();
    expect(checkTlvValue(t(0x0427, '02'))).toBeUndefined();
    expect(checkTlvValue(t(0x0424, ''))).toBeUndefined();
  });

  it('names the TLV and the size it expected', () => {
    expect(checkTlvValue(t(0x0427, '0002'))).toBe('TLV message_state has length 2, expected 1');
    expect(checkTlvValue(t(0x130c, '01'))).toBe('TLV alert_on_message_delivery has length 1, expected 0');
    expect(checkTlvValue(t(0x0202, '00'.repeat(24)))).toBe('TLV source_subaddress has length 24, at most 23 allowed');
  });
});
