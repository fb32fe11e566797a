/**
 * shortMessageFields: the submit_sm/deliver_sm body with SMPP 3.4's defaults for what is left out.
 */
import { describe, expect, it } from 'vitest';
import { encodePdu, makePdu } from '../../../src/smpp/codec.ts';
import { shortMessageFields, type ShortMessageFields } from '../../../src/smpp/pdu.ts';

const DEFAULTS: Omit<ShortMessageFields, 'destination_addr' | 'short_message'> = {
  service_type: '',
  source_addr_ton: 0,
  source_addr_npi: 0,
  source_addr: '',
  dest_addr_ton: 0,
  dest_addr_npi: 0,
  esm_class: 0,
  protocol_id: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 0,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
};

describe('shortMessageFields', () => {
  it('fills every field left out with its default, short_message an empty Buffer', () => {
    expect(shortMessageFields({ destination_addr: '1' })).toStrictEqual({ ...DEFAULTS, destination_addr: '1', short_message: Buffer.alloc(0) });
  });

  it('keeps every field given', () => {
    const given: ShortMessageFields = {
      service_type: 'CMT',
      source_addr_ton: 5,
      source_addr_npi: 1,
      source_addr: 'Parley',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0x40,
      protocol_id: 7,
      priority_flag: 3,
      schedule_delivery_time: '250101120000000+',
      validity_period: '000001000000000R',
      registered_delivery: 1,
      replace_if_present_flag: 1,
      data_coding: 8,
      sm_default_msg_id: 9,
      short_message: Buffer.from('hi'),
    };
    const built = shortMessageFields(given);
    expect(built).toStrictEqual(given);
    expect(built.short_message).toBe(given.short_message);
    expect(built).not.toBe(given);
  });

  it('a field given as undefined gets its default, and encodes as it always did', () => {
    const built = shortMessageFields({ destination_addr: '1', priority_flag: undefined, source_addr: undefined, short_message: undefined });
    expect(built).toMatchObject({ priority_flag: 0, source_addr: '', short_message: Buffer.alloc(0) });
    const spread = { ...DEFAULTS, short_message: Buffer.alloc(0), destination_addr: '1', priority_flag: undefined, source_addr: undefined };
    expect(encodePdu(makePdu('submit_sm', built)).equals(encodePdu(makePdu('submit_sm', spread as unknown as ShortMessageFields)))).toBe(true);
  });

  it('returns a fresh object each call', () => {
    const a = shortMessageFields({ destination_addr: '1' });
    const b = shortMessageFields({ destination_addr: '1' });
    expect(a).not.toBe(b);
    expect(a.short_message).not.toBe(b.short_message);
  });
});
