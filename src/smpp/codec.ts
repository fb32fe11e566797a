/**
 * Encoding and decoding of whole SMPP 3.4 PDUs, in one import: the field tables (body-schemas.ts),
 * the encoder (pdu-encoder.ts), the decoder (pdu-decoder.ts) and the TLV length rules (tlv.ts).
 * Framing (finding where a PDU ends in a byte stream) is `frame-reader.ts`'s job: `decodePdu` gets
 * exactly one PDU's octets.
 *
 * Decoding never throws: a malformed body comes back as a `PduDecodeError` carrying the
 * command_status to answer with, so it never reaches the application as a PDU.
 */
import type { CommandName } from './commands.ts';
import type { PduInit, PduOf } from './pdu.ts';

export { BODY_SCHEMAS, HEADER_LENGTH, MAX_SHORT_MESSAGE } from './body-schemas.ts';
export { PduEncodeError, encodePdu, encodeRequest, encodeSimpleResponse } from './pdu-encoder.ts';
export { decodeOwnedFrame, decodePdu, type DecodeResult, type PduDecodeError } from './pdu-decoder.ts';
export { tlvLengthAllowed } from './tlv.ts';

/**
 * Builds a typed PDU with defaults for sequence number, status and TLVs. Not for hot paths: the
 * spread after the defaults takes V8's slow path (still better than Object.assign, whose result
 * drops to dictionary mode, or cloning `init` and adding keys). The session encodes requests with
 * `encodeRequest` instead.
 */
export function makePdu<C extends CommandName>(command: C, init: PduInit<C>): PduOf<C> {
  return {
    command_status: 0,
    sequence_number: 0,
    tlvs: [],
    ...init,
    command,
  } as unknown as PduOf<C>;
}
