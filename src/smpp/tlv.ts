/**
 * SMPP 3.4 optional parameters (TLVs, section 5.3). A PDU keeps its TLVs as raw tag/value pairs in
 * arrival order so that unknown ones survive a decode/encode round trip byte for byte; the ones
 * Parley uses are read and built by name through this table.
 */
export interface Tlv {
  readonly tag: number;
  readonly value: Buffer;
}

export interface NetworkErrorCode {
  /** 1 ANSI-136, 2 IS-95, 3 GSM, 4 reserved... (SMPP 3.4 5.3.2.31) */
  readonly networkType: number;
  readonly errorCode: number;
}

type Kind = 'u8' | 'u16' | 'u32' | 'cstring' | 'octets' | 'network_error' | 'flag';

interface TlvSpec {
  readonly tag: number;
  readonly kind: Kind;
  /** octets for octets/cstring (cstring includes its NUL) */
  readonly max?: number;
}

export const TLV_SPECS = {
  dest_addr_subunit: { tag: 0x0005, kind: 'u8' },
  dest_network_type: { tag: 0x0006, kind: 'u8' },
  dest_bearer_type: { tag: 0x0007, kind: 'u8' },
  dest_telematics_id: { tag: 0x0008, kind: 'u16' },
  source_addr_subunit: { tag: 0x000d, kind: 'u8' },
  source_network_type: { tag: 0x000e, kind: 'u8' },
  source_bearer_type: { tag: 0x000f, kind: 'u8' },
  source_telematics_id: { tag: 0x0010, kind: 'u8' },
  qos_time_to_live: { tag: 0x0017, kind: 'u32' },
  payload_type: { tag: 0x0019, kind: 'u8' },
  additional_status_info_text: { tag: 0x001d, kind: 'cstring', max: 256 },
  receipted_message_id: { tag: 0x001e, kind: 'cstring', max: 65 },
  ms_msg_wait_facilities: { tag: 0x0030, kind: 'u8' },
  privacy_indicator: { tag: 0x0201, kind: 'u8' },
  source_subaddress: { tag: 0x0202, kind: 'octets', max: 23 },
  dest_subaddress: { tag: 0x0203, kind: 'octets', max: 23 },
  user_message_reference: { tag: 0x0204, kind: 'u16' },
  user_response_code: { tag: 0x0205, kind: 'u8' },
  source_port: { tag: 0x020a, kind: 'u16' },
  destination_port: { tag: 0x020b, kind: 'u16' },
  sar_msg_ref_num: { tag: 0x020c, kind: 'u16' },
  language_indicator: { tag: 0x020d, kind: 'u8' },
  sar_total_segments: { tag: 0x020e, kind: 'u8' },
  sar_segment_seqnum: { tag: 0x020f, kind: 'u8' },
  sc_interface_version: { tag: 0x0210, kind: 'u8' },
  callback_num_pres_ind: { tag: 0x0302, kind: 'u8' },
  callback_num_atag: { tag: 0x0303, kind: 'octets', max: 65 },
  number_of_messages: { tag: 0x0304, kind: 'u8' },
  callback_num: { tag: 0x0381, kind: 'octets', max: 19 },
  dpf_result: { tag: 0x0420, kind: 'u8' },
  set_dpf: { tag: 0x0421, kind: 'u8' },
  ms_availability_status: { tag: 0x0422, kind: 'u8' },
  network_error_code: { tag: 0x0423, kind: 'network_error' },
  message_payload: { tag: 0x0424, kind: 'octets', max: 0xffff },
  delivery_failure_reason: { tag: 0x0425, kind: 'u8' },
  more_messages_to_send: { tag: 0x0426, kind: 'u8' },
  message_state: { tag: 0x0427, kind: 'u8' },
  ussd_service_op: { tag: 0x0501, kind: 'octets', max: 1 },
  display_time: { tag: 0x1201, kind: 'u8' },
  sms_signal: { tag: 0x1203, kind: 'u16' },
  ms_validity: { tag: 0x1204, kind: 'u8' },
  alert_on_message_delivery: { tag: 0x130c, kind: 'flag' },
  its_reply_type: { tag: 0x1380, kind: 'u8' },
  its_session_info: { tag: 0x1383, kind: 'octets', max: 2 },
} as const satisfies Record<string, TlvSpec>;

export type TlvName = keyof typeof TLV_SPECS;

type ValueOfKind<K extends Kind> = K extends 'u8' | 'u16' | 'u32'
  ? number
  : K extends 'cstring'
    ? string
    : K extends 'octets'
      ? Buffer
      : K extends 'network_error'
        ? NetworkErrorCode
        : true;

export type TlvValue<N extends TlvName> = ValueOfKind<(typeof TLV_SPECS)[N]['kind']>;

const SPEC_BY_TAG = new Map<number, TlvSpec & { name: TlvName }>(
  (Object.entries(TLV_SPECS) as [TlvName, TlvSpec][]).map(([name, spec]) => [spec.tag, { ...spec, name }]),
);

export function tlvNameOf(tag: number): TlvName | undefined {
  return SPEC_BY_TAG.get(tag)?.name;
}

const FIXED_SIZE: Partial<Record<Kind, number>> = { u8: 1, u16: 2, u32: 4, network_error: 3, flag: 0 };

/**
 * Why a known TLV's value cannot be what its tag says, or undefined when it is fine. Used by the
 * decoder so that a malformed value is answered with ESME_RINVPARLEN instead of being misread.
 */
export function checkTlvValue(tlv: Tlv): string | undefined {
  const spec = SPEC_BY_TAG.get(tlv.tag);
  if (!spec) return undefined;
  const fixed = FIXED_SIZE[spec.kind];
  if (fixed !== undefined && tlv.value.length !== fixed) {
    return `TLV ${spec.name} has length ${tlv.value.length}, expected ${fixed}`;
  }
  if (spec.max !== undefined && tlv.value.length > spec.max) {
    return `TLV ${spec.name} has length ${tlv.value.length}, at most ${spec.max} allowed`;
  }
  return undefined;
}

/** Builds a TLV by name; throws on a value its spec cannot hold (a programming error). */
export function makeTlv<N extends TlvName>(name: N, value: TlvValue<N>): Tlv {
  const spec: TlvSpec = TLV_SPECS[name];
  let buf: Buffer;
  switch (spec.kind) {
    case 'u8':
    case 'u16':
    case 'u32': {
      const size = FIXED_SIZE[spec.kind] as number;
      const n = value as number;
      if (!Number.isInteger(n) || n < 0 || n >= 2 ** (8 * size)) {
        throw new RangeError(`TLV ${name}: ${n} does not fit ${size} octet(s)`);
      }
      buf = Buffer.alloc(size);
      buf.writeUIntBE(n, 0, size);
      break;
    }
    case 'cstring': {
      // Latin-1 would silently turn U+20AC into 0xAC, and an inner NUL would cut the value short
      // for every reader: both are values a C-Octet String cannot hold.
      const s = value as string;
      if (/[^\x01-\xff]/.test(s)) {
        throw new RangeError(`TLV ${name}: a C-Octet String cannot carry NUL or characters above U+00FF`);
      }
      buf = Buffer.from(`${s}\0`, 'latin1');
      break;
    }
    case 'octets':
      buf = Buffer.from(value as Buffer);
      break;
    case 'network_error': {
      const v = value as NetworkErrorCode;
      buf = Buffer.alloc(3);
      buf.writeUInt8(v.networkType, 0);
      buf.writeUInt16BE(v.errorCode, 1);
      break;
    }
    case 'flag':
      buf = Buffer.alloc(0);
      break;
  }
  if (spec.max !== undefined && buf.length > spec.max) {
    throw new RangeError(`TLV ${name}: ${buf.length} octets, at most ${spec.max} allowed`);
  }
  return { tag: spec.tag, value: buf };
}

/** Reads the first TLV of that name, or undefined when absent or malformed. */
export function readTlv<N extends TlvName>(tlvs: readonly Tlv[], name: N): TlvValue<N> | undefined {
  const spec: TlvSpec = TLV_SPECS[name];
  const tlv = tlvs.find((t) => t.tag === spec.tag);
  if (!tlv || checkTlvValue(tlv) !== undefined) return undefined;
  const v = tlv.value;
  switch (spec.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      return v.readUIntBE(0, v.length) as TlvValue<N>;
    case 'cstring': {
      // Carriers often omit the terminating NUL in receipted_message_id: take the value up to the
      // first NUL or the end, whichever comes first.
      const nul = v.indexOf(0);
      return v.toString('latin1', 0, nul < 0 ? v.length : nul) as TlvValue<N>;
    }
    case 'octets':
      return Buffer.from(v) as TlvValue<N>;
    case 'network_error':
      return { networkType: v.readUInt8(0), errorCode: v.readUInt16BE(1) } as TlvValue<N>;
    case 'flag':
      return true as TlvValue<N>;
  }
}

/** A copy of the list with every TLV of that name replaced by one with this value. */
export function withTlv<N extends TlvName>(tlvs: readonly Tlv[], name: N, value: TlvValue<N>): Tlv[] {
  const made = makeTlv(name, value);
  return [...tlvs.filter((t) => t.tag !== made.tag), made];
}

const TLV_FIXED_SIZE: Readonly<Record<string, number>> = { u8: 1, u16: 2, u32: 4, network_error: 3, flag: 0 };

/**
 * The value lengths a known TLV may have, by tag: `fixed` (or -1 for any) and at most `max`. A
 * quick test before `checkTlvValue`, which is asked only for the wording when it fails (a unit test
 * holds the two to the same verdict for every known tag).
 */
const TLV_LENGTH_RULES: ReadonlyMap<number, { readonly fixed: number; readonly max: number }> = new Map(
  Object.values(TLV_SPECS).map((spec: { readonly tag: number; readonly kind: string; readonly max?: number }) => [
    spec.tag,
    { fixed: TLV_FIXED_SIZE[spec.kind] ?? -1, max: spec.max ?? 0xffff },
  ]),
);

/** Whether a TLV's value length is one its tag allows; true for an unknown tag. */
export function tlvLengthAllowed(tag: number, length: number): boolean {
  const rule = TLV_LENGTH_RULES.get(tag);
  return rule === undefined || ((rule.fixed < 0 || length === rule.fixed) && length <= rule.max);
}