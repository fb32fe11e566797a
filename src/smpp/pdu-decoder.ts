/**
 * Decoding of exactly one SMPP 3.4 PDU's octets. It never throws: a malformed body comes back as a
 * `PduDecodeError` carrying the command_status to answer with, so it never reaches the application
 * as a PDU. The hot bodies are read field by field, the rest through BODY_SCHEMAS.
 */
import { commandNameOf, isResponseId, type CommandName } from './commands.ts';
import { ESME_RINVCMDID, ESME_RINVCMDLEN, ESME_RINVMSGLEN, ESME_RINVOPTPARSTREAM, ESME_RINVPARLEN } from './command-status.ts';
import type { Pdu } from './pdu.ts';
import { checkTlvValue, tlvLengthAllowed, type Tlv } from './tlv.ts';
import {
  BODY_SCHEMAS,
  HEADER_LENGTH,
  MESSAGE_ID_FIELD,
  SCHEDULE_DELIVERY_TIME,
  SERVICE_TYPE,
  SM_DESTINATION_ADDR,
  SM_SOURCE_ADDR,
  VALIDITY_PERIOD,
  type CStringSpec,
  type Fields,
  type FieldSpec,
} from './body-schemas.ts';

/** Why one PDU's octets are not a valid PDU, and what to answer. */
export interface PduDecodeError {
  readonly commandId: number;
  readonly command: CommandName | undefined;
  readonly sequenceNumber: number;
  /** The command_status the answer (the PDU's own response, or generic_nack) carries. */
  readonly commandStatus: number;
  readonly reason: string;
}

export type DecodeResult = { readonly ok: true; readonly pdu: Pdu } | { readonly ok: false; readonly error: PduDecodeError };

class Malformed {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

/**
 * Reads one body field by field; a field that is not there or not well-formed throws Malformed.
 * There is one, reused: decoding is synchronous and never re-entered.
 */
class BodyReader {
  private frame: Buffer = Buffer.alloc(0);
  private at = 0;
  private end = 0;
  /** A response that is a bare header: every field reads as its default. */
  private bare = false;
  /** short_message and TLV values are views into the frame rather than copies. */
  private share = false;

  start(frame: Buffer, bare: boolean, share: boolean): void {
    this.frame = frame;
    this.at = HEADER_LENGTH;
    this.end = frame.length;
    this.bare = bare;
    this.share = share;
  }

  /** Lets go of the frame. */
  finish(): void {
    this.frame = EMPTY_FRAME;
  }

  u8(name: string): number {
    if (this.bare) return 0;
    if (this.at >= this.end) throw new Malformed(ESME_RINVCMDLEN, `body ends before ${name}`);
    return this.frame[this.at++] as number;
  }

  cstring(spec: CStringSpec): string {
    if (this.bare) return '';
    const frame = this.frame;
    const at = this.at;
    const end = this.end;
    const limit = Math.min(end, at + spec.max);
    let nul = at;
    while (nul < limit && frame[nul] !== 0) nul++;
    if (nul >= limit) {
      if (limit === end && end - at < spec.max) {
        throw new Malformed(ESME_RINVCMDLEN, `${spec.name} has no NUL terminator before the end of the PDU`);
      }
      throw new Malformed(spec.status, `${spec.name} is longer than ${spec.max - 1} characters (no NUL within ${spec.max} octets)`);
    }
    this.at = nul + 1;
    return nul === at ? '' : frame.toString('latin1', at, nul);
  }

  shortMessage(): Buffer {
    if (this.bare) return Buffer.alloc(0);
    if (this.at >= this.end) throw new Malformed(ESME_RINVCMDLEN, 'body ends before sm_length');
    const smLength = this.frame[this.at++] as number;
    const at = this.at;
    if (at + smLength > this.end) {
      throw new Malformed(ESME_RINVMSGLEN, `sm_length ${smLength} runs ${at + smLength - this.end} octet(s) past the end of the PDU`);
    }
    this.at = at + smLength;
    return this.octets(at, smLength);
  }

  field(spec: FieldSpec): unknown {
    if (spec.kind === 'u8') return this.u8(spec.name);
    if (spec.kind === 'short_message') return this.shortMessage();
    return this.cstring(spec);
  }

  /** The TLVs from here to the end. */
  tlvs(): Tlv[] {
    const frame = this.frame;
    const end = this.end;
    let at = this.at;
    const tlvs: Tlv[] = [];
    while (at < end) {
      if (end - at < 4) throw new Malformed(ESME_RINVOPTPARSTREAM, `${end - at} stray octet(s) where a TLV header should be`);
      const tag = ((frame[at] as number) << 8) | (frame[at + 1] as number);
      const len = ((frame[at + 2] as number) << 8) | (frame[at + 3] as number);
      at += 4;
      if (at + len > end) {
        throw new Malformed(ESME_RINVOPTPARSTREAM, `TLV 0x${tag.toString(16).padStart(4, '0')} length ${len} runs past the end of the PDU`);
      }
      const tlv: Tlv = { tag, value: this.octets(at, len) };
      if (!tlvLengthAllowed(tag, len)) {
        const problem = checkTlvValue(tlv);
        if (problem) throw new Malformed(ESME_RINVPARLEN, problem);
      }
      tlvs.push(tlv);
      at += len;
    }
    this.at = at;
    return tlvs;
  }

  private octets(at: number, length: number): Buffer {
    if (this.share) return this.frame.subarray(at, at + length);
    const copy = Buffer.allocUnsafe(length);
    this.frame.copy(copy, 0, at, at + length);
    return copy;
  }
}

const EMPTY_FRAME = Buffer.alloc(0);
const reader = new BodyReader();

function failure(commandId: number, command: CommandName | undefined, sequenceNumber: number, commandStatus: number, reason: string): DecodeResult {
  return { ok: false, error: { commandId, command, sequenceNumber, commandStatus, reason } };
}

/**
 * Decodes exactly one PDU. A buffer shorter than the header, or whose length is not its
 * command_length, is answered ESME_RINVCMDLEN rather than read (or thrown on). short_message and
 * TLV values are copies: the PDU shares no memory with `frame`.
 */
export function decodePdu(frame: Buffer): DecodeResult {
  return decode(frame, false);
}

/**
 * As `decodePdu`, for a frame that nothing else holds or will change (FrameReader's frames are
 * copies made for this): short_message and TLV values are views into it instead of copies.
 */
export function decodeOwnedFrame(frame: Buffer): DecodeResult {
  return decode(frame, true);
}

function decode(frame: Buffer, share: boolean): DecodeResult {
  const commandId = frame.length >= 8 ? frame.readUInt32BE(4) : 0;
  const sequenceNumber = frame.length >= HEADER_LENGTH ? frame.readUInt32BE(12) : 0;
  const command = commandNameOf(commandId);
  if (frame.length < HEADER_LENGTH) {
    return failure(commandId, command, sequenceNumber, ESME_RINVCMDLEN, `${frame.length} octet(s) cannot hold the 16-octet header`);
  }
  if (frame.readUInt32BE(0) !== frame.length) {
    return failure(
      commandId,
      command,
      sequenceNumber,
      ESME_RINVCMDLEN,
      `command_length ${frame.readUInt32BE(0)} does not match the ${frame.length} octets given`,
    );
  }
  if (command === undefined) {
    return failure(commandId, command, sequenceNumber, ESME_RINVCMDID, `unknown command_id 0x${commandId.toString(16).padStart(8, '0')}`);
  }
  // Many SMSCs answer a rejected request with a bare header; a response without a body is read as
  // its fields' defaults rather than refused.
  reader.start(frame, frame.length === HEADER_LENGTH && isResponseId(commandId), share);
  try {
    return { ok: true, pdu: readPdu(reader, command, frame.readUInt32BE(8), sequenceNumber) };
  } catch (err) {
    if (err instanceof Malformed) return failure(commandId, command, sequenceNumber, err.status, `${command}: ${err.reason}`);
    throw err;
  } finally {
    reader.finish();
  }
}

/**
 * The body after the header, as a literal of the shape the PDU types describe, keys in the order
 * command, command_status, sequence_number, the body's fields in BODY_SCHEMAS order, tlvs. The
 * hot bodies are written out (a literal is a fast-properties object built without a store per
 * field); the rest are read through BODY_SCHEMAS. Property values are evaluated in source order,
 * which is the wire order.
 */
function readPdu(r: BodyReader, command: CommandName, command_status: number, sequence_number: number): Pdu {
  switch (command) {
    case 'submit_sm':
    case 'deliver_sm':
      return {
        command,
        command_status,
        sequence_number,
        service_type: r.cstring(SERVICE_TYPE),
        source_addr_ton: r.u8('source_addr_ton'),
        source_addr_npi: r.u8('source_addr_npi'),
        source_addr: r.cstring(SM_SOURCE_ADDR),
        dest_addr_ton: r.u8('dest_addr_ton'),
        dest_addr_npi: r.u8('dest_addr_npi'),
        destination_addr: r.cstring(SM_DESTINATION_ADDR),
        esm_class: r.u8('esm_class'),
        protocol_id: r.u8('protocol_id'),
        priority_flag: r.u8('priority_flag'),
        schedule_delivery_time: r.cstring(SCHEDULE_DELIVERY_TIME),
        validity_period: r.cstring(VALIDITY_PERIOD),
        registered_delivery: r.u8('registered_delivery'),
        replace_if_present_flag: r.u8('replace_if_present_flag'),
        data_coding: r.u8('data_coding'),
        sm_default_msg_id: r.u8('sm_default_msg_id'),
        short_message: r.shortMessage(),
        tlvs: r.tlvs(),
      };
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
      return { command, command_status, sequence_number, message_id: r.cstring(MESSAGE_ID_FIELD), tlvs: r.tlvs() };
    case 'generic_nack':
    case 'unbind':
    case 'unbind_resp':
    case 'enquire_link':
    case 'enquire_link_resp':
      return { command, command_status, sequence_number, tlvs: r.tlvs() };
    default: {
      const fields: Fields = { command, command_status, sequence_number };
      for (const spec of BODY_SCHEMAS[command]) fields[spec.kind === 'short_message' ? 'short_message' : spec.name] = r.field(spec);
      fields.tlvs = r.tlvs();
      return fields as unknown as Pdu;
    }
  }
}
