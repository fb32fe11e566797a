/**
 * Encoding and decoding of whole SMPP 3.4 PDUs. Framing (finding where a PDU ends in a byte
 * stream) is `frame-reader.ts`'s job: `decodePdu` gets exactly one PDU's octets.
 *
 * Decoding never throws: a malformed body comes back as a `PduDecodeError` carrying the
 * command_status to answer with, so it never reaches the application as a PDU.
 */
import { COMMAND_IDS, commandNameOf, isResponseId, type CommandName } from './commands.ts';
import {
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  ESME_RINVMSGLEN,
  ESME_RINVOPTPARSTREAM,
  ESME_RINVPARLEN,
  commandStatusCode,
} from './command-status.ts';
import type { Pdu, PduInit, PduOf } from './pdu.ts';
import { checkTlvValue, type Tlv } from './tlv.ts';
import { ParleyError } from '../lib/errors.ts';

export const HEADER_LENGTH = 16;
/** sm_length is one octet, and 255 is reserved by SMPP 3.4 (5.2.21). */
export const MAX_SHORT_MESSAGE = 254;

type FieldSpec =
  | { readonly kind: 'cstring'; readonly name: string; readonly max: number; readonly status: number }
  | { readonly kind: 'u8'; readonly name: string }
  | { readonly kind: 'short_message' };

const cs = (name: string, max: number, statusName: string): FieldSpec => ({
  kind: 'cstring',
  name,
  max,
  status: commandStatusCode(statusName),
});
const u8 = (name: string): FieldSpec => ({ kind: 'u8', name });

const BIND: readonly FieldSpec[] = [
  cs('system_id', 16, 'ESME_RINVSYSID'),
  cs('password', 9, 'ESME_RINVPASWD'),
  cs('system_type', 13, 'ESME_RINVSYSTYP'),
  u8('interface_version'),
  u8('addr_ton'),
  u8('addr_npi'),
  cs('address_range', 41, 'ESME_RINVCMDLEN'),
];
const BIND_RESP: readonly FieldSpec[] = [cs('system_id', 16, 'ESME_RINVSYSID')];
const SHORT_MESSAGE: readonly FieldSpec[] = [
  cs('service_type', 6, 'ESME_RINVSERTYP'),
  u8('source_addr_ton'),
  u8('source_addr_npi'),
  cs('source_addr', 21, 'ESME_RINVSRCADR'),
  u8('dest_addr_ton'),
  u8('dest_addr_npi'),
  cs('destination_addr', 21, 'ESME_RINVDSTADR'),
  u8('esm_class'),
  u8('protocol_id'),
  u8('priority_flag'),
  cs('schedule_delivery_time', 17, 'ESME_RINVSCHED'),
  cs('validity_period', 17, 'ESME_RINVEXPIRY'),
  u8('registered_delivery'),
  u8('replace_if_present_flag'),
  u8('data_coding'),
  u8('sm_default_msg_id'),
  { kind: 'short_message' },
];
const MESSAGE_ID: readonly FieldSpec[] = [cs('message_id', 65, 'ESME_RINVMSGID')];

export const BODY_SCHEMAS: Readonly<Record<CommandName, readonly FieldSpec[]>> = {
  generic_nack: [],
  bind_receiver: BIND,
  bind_receiver_resp: BIND_RESP,
  bind_transmitter: BIND,
  bind_transmitter_resp: BIND_RESP,
  bind_transceiver: BIND,
  bind_transceiver_resp: BIND_RESP,
  outbind: [cs('system_id', 16, 'ESME_RINVSYSID'), cs('password', 9, 'ESME_RINVPASWD')],
  unbind: [],
  unbind_resp: [],
  enquire_link: [],
  enquire_link_resp: [],
  submit_sm: SHORT_MESSAGE,
  submit_sm_resp: MESSAGE_ID,
  deliver_sm: SHORT_MESSAGE,
  deliver_sm_resp: MESSAGE_ID,
  data_sm: [
    cs('service_type', 6, 'ESME_RINVSERTYP'),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 65, 'ESME_RINVSRCADR'),
    u8('dest_addr_ton'),
    u8('dest_addr_npi'),
    cs('destination_addr', 65, 'ESME_RINVDSTADR'),
    u8('esm_class'),
    u8('registered_delivery'),
    u8('data_coding'),
  ],
  data_sm_resp: MESSAGE_ID,
  query_sm: [
    cs('message_id', 65, 'ESME_RINVMSGID'),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 21, 'ESME_RINVSRCADR'),
  ],
  query_sm_resp: [
    cs('message_id', 65, 'ESME_RINVMSGID'),
    cs('final_date', 17, 'ESME_RINVCMDLEN'),
    u8('message_state'),
    u8('error_code'),
  ],
  alert_notification: [
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 65, 'ESME_RINVSRCADR'),
    u8('esme_addr_ton'),
    u8('esme_addr_npi'),
    cs('esme_addr', 65, 'ESME_RINVCMDLEN'),
  ],
};

/** A PDU that cannot be built as asked: a field too long or out of range. A programming error. */
export class PduEncodeError extends ParleyError {
  constructor(message: string) {
    super('smpp_encode', message);
  }
}

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

type Fields = Record<string, unknown>;

function fieldDefault(spec: FieldSpec): [string, unknown] {
  if (spec.kind === 'short_message') return ['short_message', Buffer.alloc(0)];
  return [spec.name, spec.kind === 'u8' ? 0 : ''];
}

/** Builds a typed PDU with defaults for sequence number, status and TLVs. */
export function makePdu<C extends CommandName>(command: C, init: PduInit<C>): PduOf<C> {
  return {
    command_status: 0,
    sequence_number: 0,
    tlvs: [],
    ...init,
    command,
  } as unknown as PduOf<C>;
}

function bodyLength(schema: readonly FieldSpec[], fields: Fields, command: CommandName): number {
  let n = 0;
  for (const spec of schema) {
    if (spec.kind === 'u8') n += 1;
    else if (spec.kind === 'short_message') n += 1 + asBuffer(fields.short_message, command).length;
    else n += String(fields[spec.name] ?? '').length + 1;
  }
  return n;
}

function asBuffer(v: unknown, command: CommandName): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  if (!Buffer.isBuffer(v)) throw new PduEncodeError(`${command}.short_message must be a Buffer`);
  return v;
}

/** Encodes a PDU; throws PduEncodeError when a field breaks SMPP 3.4's limits. */
export function encodePdu(pdu: Pdu): Buffer {
  const command = pdu.command;
  const schema = BODY_SCHEMAS[command];
  const fields = pdu as unknown as Fields;
  let length = HEADER_LENGTH + bodyLength(schema, fields, command);
  for (const tlv of pdu.tlvs) {
    if (tlv.value.length > 0xffff) throw new PduEncodeError(`TLV 0x${tlv.tag.toString(16)} longer than 65535 octets`);
    length += 4 + tlv.value.length;
  }
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32BE(length, 0);
  buf.writeUInt32BE(COMMAND_IDS[command], 4);
  buf.writeUInt32BE(pdu.command_status >>> 0, 8);
  buf.writeUInt32BE(pdu.sequence_number >>> 0, 12);
  let at = HEADER_LENGTH;
  for (const spec of schema) {
    if (spec.kind === 'u8') {
      const v = fields[spec.name] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) {
        throw new PduEncodeError(`${command}.${spec.name} must be an integer 0..255, got ${String(v)}`);
      }
      buf[at++] = v;
    } else if (spec.kind === 'short_message') {
      const sm = asBuffer(fields.short_message, command);
      if (sm.length > MAX_SHORT_MESSAGE) {
        throw new PduEncodeError(
          `${command}.short_message is ${sm.length} octets; at most ${MAX_SHORT_MESSAGE} (use message_payload)`,
        );
      }
      buf[at++] = sm.length;
      at += sm.copy(buf, at);
    } else {
      const s = String(fields[spec.name] ?? '');
      if (s.length + 1 > spec.max) {
        throw new PduEncodeError(`${command}.${spec.name} is ${s.length} characters; at most ${spec.max - 1}`);
      }
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 0 || c > 0xff) throw new PduEncodeError(`${command}.${spec.name} has a character C-Octet strings cannot carry`);
        buf[at++] = c;
      }
      buf[at++] = 0;
    }
  }
  for (const tlv of pdu.tlvs) {
    buf.writeUInt16BE(tlv.tag, at);
    buf.writeUInt16BE(tlv.value.length, at + 2);
    at += 4 + tlv.value.copy(buf, at + 4);
  }
  return buf;
}

class Malformed {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

/**
 * Decodes exactly one PDU. A buffer shorter than the header, or whose length is not its
 * command_length, is answered ESME_RINVCMDLEN rather than read (or thrown on).
 */
export function decodePdu(frame: Buffer): DecodeResult {
  const commandId = frame.length >= 8 ? frame.readUInt32BE(4) : 0;
  const sequenceNumber = frame.length >= HEADER_LENGTH ? frame.readUInt32BE(12) : 0;
  const command = commandNameOf(commandId);
  const fail = (commandStatus: number, reason: string): DecodeResult => ({
    ok: false,
    error: { commandId, command, sequenceNumber, commandStatus, reason },
  });
  if (frame.length < HEADER_LENGTH) {
    return fail(ESME_RINVCMDLEN, `${frame.length} octet(s) cannot hold the 16-octet header`);
  }
  if (frame.readUInt32BE(0) !== frame.length) {
    return fail(ESME_RINVCMDLEN, `command_length ${frame.readUInt32BE(0)} does not match the ${frame.length} octets given`);
  }
  if (command === undefined) {
    return fail(ESME_RINVCMDID, `unknown command_id 0x${commandId.toString(16).padStart(8, '0')}`);
  }
  const fields: Fields = {
    command,
    command_status: frame.readUInt32BE(8),
    sequence_number: sequenceNumber,
  };
  const schema = BODY_SCHEMAS[command];
  let at = HEADER_LENGTH;
  const end = frame.length;
  try {
    // Many SMSCs answer a rejected request with a bare header; a response without a body is
    // read as its fields' defaults rather than refused.
    if (end === HEADER_LENGTH && isResponseId(commandId)) {
      for (const spec of schema) {
        const [k, v] = fieldDefault(spec);
        fields[k] = v;
      }
    } else {
      for (const spec of schema) {
        if (spec.kind === 'u8') {
          if (at >= end) throw new Malformed(ESME_RINVCMDLEN, `body ends before ${spec.name}`);
          fields[spec.name] = frame[at++];
        } else if (spec.kind === 'short_message') {
          if (at >= end) throw new Malformed(ESME_RINVCMDLEN, 'body ends before sm_length');
          const smLength = frame[at++] as number;
          if (at + smLength > end) {
            throw new Malformed(ESME_RINVMSGLEN, `sm_length ${smLength} runs ${at + smLength - end} octet(s) past the end of the PDU`);
          }
          fields.short_message = Buffer.from(frame.subarray(at, at + smLength));
          at += smLength;
        } else {
          const limit = Math.min(end, at + spec.max);
          const nul = frame.indexOf(0, at);
          if (nul < 0 || nul >= limit) {
            if (limit === end && end - at < spec.max) {
              throw new Malformed(ESME_RINVCMDLEN, `${spec.name} has no NUL terminator before the end of the PDU`);
            }
            throw new Malformed(spec.status, `${spec.name} is longer than ${spec.max - 1} characters (no NUL within ${spec.max} octets)`);
          }
          fields[spec.name] = frame.toString('latin1', at, nul);
          at = nul + 1;
        }
      }
    }
    const tlvs: Tlv[] = [];
    while (at < end) {
      if (end - at < 4) throw new Malformed(ESME_RINVOPTPARSTREAM, `${end - at} stray octet(s) where a TLV header should be`);
      const tag = frame.readUInt16BE(at);
      const len = frame.readUInt16BE(at + 2);
      at += 4;
      if (at + len > end) {
        throw new Malformed(ESME_RINVOPTPARSTREAM, `TLV 0x${tag.toString(16).padStart(4, '0')} length ${len} runs past the end of the PDU`);
      }
      const tlv: Tlv = { tag, value: Buffer.from(frame.subarray(at, at + len)) };
      const problem = checkTlvValue(tlv);
      if (problem) throw new Malformed(ESME_RINVPARLEN, problem);
      tlvs.push(tlv);
      at += len;
    }
    fields.tlvs = tlvs;
  } catch (err) {
    if (err instanceof Malformed) return fail(err.status, `${command}: ${err.reason}`);
    throw err;
  }
  return { ok: true, pdu: fields as unknown as Pdu };
}

