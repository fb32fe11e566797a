import { ParleyError } from '../../lib/errors.ts';

/** IEI 0x00: concatenated short messages, 8-bit reference (23.040 9.2.3.24.1). */
export const IEI_CONCAT_8 = 0x00;
/** IEI 0x08: concatenated short messages, 16-bit reference (23.040 9.2.3.24.8). */
export const IEI_CONCAT_16 = 0x08;

export type InformationElement = { iei: number; data: Buffer };

export type ConcatInfo = { reference: number; total: number; seq: number; referenceBits: 8 | 16 };

export type UdhErrorCode =
  | 'udh_missing'
  | 'udhl_past_end'
  | 'ie_header_truncated'
  | 'ie_past_end';

export type ParsedUdh =
  | { ok: true; elements: InformationElement[]; payload: Buffer; concat?: ConcatInfo }
  | { ok: false; code: UdhErrorCode; reason: string };

/**
 * Reads the concatenation IE, or undefined when it must be ignored: 23.040 tells the receiver to
 * ignore the whole IE when its length is wrong, the total is 0, or seq is 0 or above the total,
 * and the parts then stand alone instead of waiting for a reassembly that cannot complete.
 */
function readConcat(element: InformationElement): ConcatInfo | undefined {
  const { iei, data } = element;
  let info: ConcatInfo;
  if (iei === IEI_CONCAT_8 && data.length === 3) {
    info = { reference: data[0] ?? 0, total: data[1] ?? 0, seq: data[2] ?? 0, referenceBits: 8 };
  } else if (iei === IEI_CONCAT_16 && data.length === 4) {
    info = { reference: data.readUInt16BE(0), total: data[2] ?? 0, seq: data[3] ?? 0, referenceBits: 16 };
  } else {
    return undefined;
  }
  if (info.total === 0 || info.seq === 0 || info.seq > info.total) return undefined;
  return info;
}

/**
 * Splits a short_message whose esm_class has UDHI set into its information elements and the
 * payload after them. When concatenation IEs repeat, the last valid one wins, as 23.040 says for
 * duplicated non-repeatable IEs.
 */
export function parseUdh(shortMessage: Buffer): ParsedUdh {
  const udhl = shortMessage[0];
  if (udhl === undefined) {
    return { ok: false, code: 'udh_missing', reason: 'UDHI is set but short_message is empty' };
  }
  const headerEnd = 1 + udhl;
  if (headerEnd > shortMessage.length) {
    return {
      ok: false,
      code: 'udhl_past_end',
      reason: `UDHL ${udhl} runs past the ${shortMessage.length - 1} octets after it`,
    };
  }
  const elements: InformationElement[] = [];
  let concat: ConcatInfo | undefined;
  let at = 1;
  while (at < headerEnd) {
    const iei = shortMessage[at];
    const length = shortMessage[at + 1];
    if (iei === undefined || length === undefined || at + 2 > headerEnd) {
      return {
        ok: false,
        code: 'ie_header_truncated',
        reason: `information element at offset ${at} has no room for its IEI and length`,
      };
    }
    const dataEnd = at + 2 + length;
    if (dataEnd > headerEnd) {
      return {
        ok: false,
        code: 'ie_past_end',
        reason: `IEI 0x${iei.toString(16).padStart(2, '0')} length ${length} runs past the UDH end`,
      };
    }
    const element = { iei, data: shortMessage.subarray(at + 2, dataEnd) };
    elements.push(element);
    concat = readConcat(element) ?? concat;
    at = dataEnd;
  }
  const payload = shortMessage.subarray(headerEnd);
  return concat === undefined ? { ok: true, elements, payload } : { ok: true, elements, payload, concat };
}

/**
 * The whole UDH (UDHL included) for one part: `05 00 03 ref total seq` or
 * `06 08 04 refHi refLo total seq`. Throws only on arguments no caller should pass; segmentation
 * validates first and never does.
 */
export function buildConcatUdh(reference: number, total: number, seq: number, bits: 8 | 16): Buffer {
  const maxReference = bits === 8 ? 0xff : 0xffff;
  if (!Number.isInteger(reference) || reference < 0 || reference > maxReference) {
    throw new ParleyError('invalid_concat_reference', `reference ${reference} is not a ${bits}-bit value`);
  }
  if (!Number.isInteger(total) || total < 1 || total > 255) {
    throw new ParleyError('invalid_concat_total', `total ${total} is not within 1-255`);
  }
  if (!Number.isInteger(seq) || seq < 1 || seq > total) {
    throw new ParleyError('invalid_concat_seq', `seq ${seq} is not within 1-${total}`);
  }
  if (bits === 8) return Buffer.from([0x05, IEI_CONCAT_8, 0x03, reference, total, seq]);
  return Buffer.from([0x06, IEI_CONCAT_16, 0x04, reference >> 8, reference & 0xff, total, seq]);
}
