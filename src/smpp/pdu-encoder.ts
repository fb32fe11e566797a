/**
 * Encoding of whole SMPP 3.4 PDUs: submit_sm and deliver_sm and the message_id responses written
 * field by field (the hot path both ways), every other body through BODY_SCHEMAS. A field that
 * breaks SMPP 3.4's limits throws PduEncodeError.
 */
import { COMMAND_IDS, type CommandName } from './commands.ts';
import type { Pdu, PduInit, ShortMessageFields } from './pdu.ts';
import type { Tlv } from './tlv.ts';
import { ParleyError } from '../lib/errors.ts';
import {
  BODY_SCHEMAS,
  HEADER_LENGTH,
  MAX_SHORT_MESSAGE,
  MESSAGE_ID_FIELD,
  SCHEDULE_DELIVERY_TIME,
  SERVICE_TYPE,
  SM_DESTINATION_ADDR,
  SM_SOURCE_ADDR,
  VALIDITY_PERIOD,
  type CStringSpec,
  type Fields,
} from './body-schemas.ts';

/** A PDU that cannot be built as asked: a field too long or out of range. A programming error. */
export class PduEncodeError extends ParleyError {
  constructor(message: string) {
    super('smpp_encode', message);
  }
}

const NO_TLVS: readonly Tlv[] = Object.freeze([]);

/** Encodes a PDU; throws PduEncodeError when a field breaks SMPP 3.4's limits. */
export function encodePdu(pdu: Pdu): Buffer {
  return encodeParts(pdu.command, pdu.command_status, pdu.sequence_number, pdu, pdu.tlvs);
}

/**
 * Encodes a request straight from what a caller supplies, octet for octet what
 * `encodePdu(makePdu(command, { ...init, sequence_number }))` gives, without building either
 * object on the way.
 */
export function encodeRequest<C extends CommandName>(command: C, sequenceNumber: number, init: PduInit<C>): Buffer {
  return encodeParts(command, init.command_status ?? 0, sequenceNumber, init, init.tlvs ?? NO_TLVS);
}

/**
 * A response whose body is a message_id (submit_sm_resp, deliver_sm_resp, data_sm_resp) or
 * nothing (enquire_link_resp, unbind_resp, generic_nack), with no TLVs: the answers a session
 * sends for nearly every request. `messageId` is ignored for a response without a body.
 * Undefined for any other command.
 */
export function encodeSimpleResponse(command: CommandName, commandStatus: number, sequenceNumber: number, messageId: string): Buffer | undefined {
  switch (command) {
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
      return encodeMessageIdBody(command, commandStatus, sequenceNumber, messageId, NO_TLVS);
    case 'enquire_link_resp':
    case 'unbind_resp':
    case 'generic_nack':
      return encodeHeaderOnly(command, commandStatus, sequenceNumber, NO_TLVS);
    default:
      return undefined;
  }
}

function encodeParts(command: CommandName, commandStatus: number, sequenceNumber: number, body: object, tlvs: readonly Tlv[]): Buffer {
  switch (command) {
    case 'submit_sm':
    case 'deliver_sm':
      return encodeShortMessageBody(command, commandStatus, sequenceNumber, body as Partial<Record<keyof ShortMessageFields, unknown>>, tlvs);
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
      return encodeMessageIdBody(command, commandStatus, sequenceNumber, (body as { message_id?: unknown }).message_id, tlvs);
    default:
      return encodeBySchema(command, commandStatus, sequenceNumber, body as Fields, tlvs);
  }
}

/** What the encoder makes of a C-Octet String field's value: absent is empty, anything else String(). */
function stringValue(v: unknown): string {
  return typeof v === 'string' ? v : String(v ?? '');
}

function asBuffer(v: unknown, command: CommandName): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  if (!Buffer.isBuffer(v)) throw new PduEncodeError(`${command}.short_message must be a Buffer`);
  return v;
}

/** Octets the TLVs take; throws on a value longer than its 2-octet length can say. */
function tlvsLength(tlvs: readonly Tlv[]): number {
  let n = 0;
  // Indexed loops over TLV lists here and below: for-of allocated an iterator result per step.
  for (let i = 0; i < tlvs.length; i++) {
    const tlv = tlvs[i] as Tlv;
    if (tlv.value.length > 0xffff) throw new PduEncodeError(`TLV 0x${tlv.tag.toString(16)} longer than 65535 octets`);
    n += 4 + tlv.value.length;
  }
  return n;
}

function putU32(buf: Buffer, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

/** A buffer of `length` octets with the header written. */
function allocPdu(length: number, command: CommandName, commandStatus: number, sequenceNumber: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  putU32(buf, 0, length);
  putU32(buf, 4, COMMAND_IDS[command]);
  putU32(buf, 8, commandStatus >>> 0);
  putU32(buf, 12, sequenceNumber >>> 0);
  return buf;
}

function putU8(buf: Buffer, at: number, value: unknown, name: string, command: CommandName): void {
  const v = value ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new PduEncodeError(`${command}.${name} must be an integer 0..255, got ${String(v)}`);
  }
  buf[at] = v;
}

/** Writes `s` and its NUL at `at`; returns where the next field starts. */
function putCString(buf: Buffer, at: number, s: string, spec: CStringSpec, command: CommandName): number {
  if (s.length + 1 > spec.max) {
    throw new PduEncodeError(`${command}.${spec.name} is ${s.length} characters; at most ${spec.max - 1}`);
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new PduEncodeError(`${command}.${spec.name} has a character C-Octet strings cannot carry`);
    buf[at++] = c;
  }
  buf[at++] = 0;
  return at;
}

function putShortMessage(buf: Buffer, at: number, sm: Buffer, command: CommandName): number {
  if (sm.length > MAX_SHORT_MESSAGE) {
    throw new PduEncodeError(`${command}.short_message is ${sm.length} octets; at most ${MAX_SHORT_MESSAGE} (use message_payload)`);
  }
  buf[at++] = sm.length;
  buf.set(sm, at);
  return at + sm.length;
}

function putTlvs(buf: Buffer, at: number, tlvs: readonly Tlv[]): void {
  for (let i = 0; i < tlvs.length; i++) {
    const tlv = tlvs[i] as Tlv;
    const n = tlv.value.length;
    buf[at] = tlv.tag >>> 8;
    buf[at + 1] = tlv.tag;
    buf[at + 2] = n >>> 8;
    buf[at + 3] = n;
    buf.set(tlv.value, at + 4);
    at += 4 + n;
  }
}

// Every encoder checks in the same order: the values are turned into strings and short_message
// checked to be a Buffer (in field order), then the TLV lengths, then each field's limits in field
// order as it is written. So a PDU with several faults reports the same one whichever path it takes.

/** submit_sm and deliver_sm, written out field by field: the hot path of both directions. */
function encodeShortMessageBody(
  command: CommandName,
  commandStatus: number,
  sequenceNumber: number,
  f: Partial<Record<keyof ShortMessageFields, unknown>>,
  tlvs: readonly Tlv[],
): Buffer {
  const serviceType = stringValue(f.service_type);
  const sourceAddr = stringValue(f.source_addr);
  const destinationAddr = stringValue(f.destination_addr);
  const scheduleDeliveryTime = stringValue(f.schedule_delivery_time);
  const validityPeriod = stringValue(f.validity_period);
  const sm = asBuffer(f.short_message, command);
  const length =
    HEADER_LENGTH +
    // 11 one-octet fields, 5 NULs and sm_length
    17 +
    serviceType.length +
    sourceAddr.length +
    destinationAddr.length +
    scheduleDeliveryTime.length +
    validityPeriod.length +
    sm.length +
    tlvsLength(tlvs);
  const buf = allocPdu(length, command, commandStatus, sequenceNumber);
  let at = putCString(buf, HEADER_LENGTH, serviceType, SERVICE_TYPE, command);
  putU8(buf, at++, f.source_addr_ton, 'source_addr_ton', command);
  putU8(buf, at++, f.source_addr_npi, 'source_addr_npi', command);
  at = putCString(buf, at, sourceAddr, SM_SOURCE_ADDR, command);
  putU8(buf, at++, f.dest_addr_ton, 'dest_addr_ton', command);
  putU8(buf, at++, f.dest_addr_npi, 'dest_addr_npi', command);
  at = putCString(buf, at, destinationAddr, SM_DESTINATION_ADDR, command);
  putU8(buf, at++, f.esm_class, 'esm_class', command);
  putU8(buf, at++, f.protocol_id, 'protocol_id', command);
  putU8(buf, at++, f.priority_flag, 'priority_flag', command);
  at = putCString(buf, at, scheduleDeliveryTime, SCHEDULE_DELIVERY_TIME, command);
  at = putCString(buf, at, validityPeriod, VALIDITY_PERIOD, command);
  putU8(buf, at++, f.registered_delivery, 'registered_delivery', command);
  putU8(buf, at++, f.replace_if_present_flag, 'replace_if_present_flag', command);
  putU8(buf, at++, f.data_coding, 'data_coding', command);
  putU8(buf, at++, f.sm_default_msg_id, 'sm_default_msg_id', command);
  at = putShortMessage(buf, at, sm, command);
  putTlvs(buf, at, tlvs);
  return buf;
}

function encodeMessageIdBody(command: CommandName, commandStatus: number, sequenceNumber: number, messageId: unknown, tlvs: readonly Tlv[]): Buffer {
  const id = stringValue(messageId);
  const buf = allocPdu(HEADER_LENGTH + id.length + 1 + tlvsLength(tlvs), command, commandStatus, sequenceNumber);
  putTlvs(buf, putCString(buf, HEADER_LENGTH, id, MESSAGE_ID_FIELD, command), tlvs);
  return buf;
}

function encodeHeaderOnly(command: CommandName, commandStatus: number, sequenceNumber: number, tlvs: readonly Tlv[]): Buffer {
  const buf = allocPdu(HEADER_LENGTH + tlvsLength(tlvs), command, commandStatus, sequenceNumber);
  putTlvs(buf, HEADER_LENGTH, tlvs);
  return buf;
}

/** Every other body, driven by BODY_SCHEMAS: rarer PDUs (binds, query_sm, data_sm...). */
function encodeBySchema(command: CommandName, commandStatus: number, sequenceNumber: number, fields: Fields, tlvs: readonly Tlv[]): Buffer {
  const schema = BODY_SCHEMAS[command];
  const strings: string[] = [];
  let length = HEADER_LENGTH;
  let sm: Buffer | undefined;
  for (const spec of schema) {
    if (spec.kind === 'u8') length += 1;
    else if (spec.kind === 'short_message') {
      sm = asBuffer(fields.short_message, command);
      length += 1 + sm.length;
    } else {
      const s = stringValue(fields[spec.name]);
      strings.push(s);
      length += s.length + 1;
    }
  }
  length += tlvsLength(tlvs);
  const buf = allocPdu(length, command, commandStatus, sequenceNumber);
  let at = HEADER_LENGTH;
  let nextString = 0;
  for (const spec of schema) {
    if (spec.kind === 'u8') putU8(buf, at++, fields[spec.name], spec.name, command);
    else if (spec.kind === 'short_message') at = putShortMessage(buf, at, sm ?? Buffer.alloc(0), command);
    else at = putCString(buf, at, strings[nextString++] ?? '', spec, command);
  }
  putTlvs(buf, at, tlvs);
  return buf;
}
