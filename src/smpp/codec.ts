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
import type { Pdu, PduInit, PduOf, ShortMessageFields } from './pdu.ts';
import { TLV_SPECS, checkTlvValue, type Tlv } from './tlv.ts';
import { ParleyError } from '../lib/errors.ts';

export const HEADER_LENGTH = 16;
/** sm_length is one octet, and 255 is reserved by SMPP 3.4 (5.2.21). */
export const MAX_SHORT_MESSAGE = 254;

interface CStringSpec {
  readonly kind: 'cstring';
  readonly name: string;
  /** Octets including the NUL. */
  readonly max: number;
  /** The command_status a value without a NUL within `max` octets is answered with. */
  readonly status: number;
}
interface U8Spec {
  readonly kind: 'u8';
  readonly name: string;
}
type FieldSpec = CStringSpec | U8Spec | { readonly kind: 'short_message' };

const cs = (name: string, max: number, statusName: string): CStringSpec => ({
  kind: 'cstring',
  name,
  max,
  status: commandStatusCode(statusName),
});
const u8 = (name: string): U8Spec => ({ kind: 'u8', name });

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

// The C-Octet Strings of submit_sm/deliver_sm and of the message_id responses, named because the
// hand-written codecs of those hot bodies (below) read their limits from the same objects.
const SERVICE_TYPE = cs('service_type', 6, 'ESME_RINVSERTYP');
const SM_SOURCE_ADDR = cs('source_addr', 21, 'ESME_RINVSRCADR');
const SM_DESTINATION_ADDR = cs('destination_addr', 21, 'ESME_RINVDSTADR');
const SCHEDULE_DELIVERY_TIME = cs('schedule_delivery_time', 17, 'ESME_RINVSCHED');
const VALIDITY_PERIOD = cs('validity_period', 17, 'ESME_RINVEXPIRY');
const MESSAGE_ID_FIELD = cs('message_id', 65, 'ESME_RINVMSGID');

const SHORT_MESSAGE: readonly FieldSpec[] = [
  SERVICE_TYPE,
  u8('source_addr_ton'),
  u8('source_addr_npi'),
  SM_SOURCE_ADDR,
  u8('dest_addr_ton'),
  u8('dest_addr_npi'),
  SM_DESTINATION_ADDR,
  u8('esm_class'),
  u8('protocol_id'),
  u8('priority_flag'),
  SCHEDULE_DELIVERY_TIME,
  VALIDITY_PERIOD,
  u8('registered_delivery'),
  u8('replace_if_present_flag'),
  u8('data_coding'),
  u8('sm_default_msg_id'),
  { kind: 'short_message' },
];
const MESSAGE_ID: readonly FieldSpec[] = [MESSAGE_ID_FIELD];

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

const NO_TLVS: readonly Tlv[] = Object.freeze([]);

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

// ------------------------------------------------------------------------------ encoding

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

// ------------------------------------------------------------------------------ decoding

class Malformed {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
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
