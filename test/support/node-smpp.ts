/**
 * A typed door into node-smpp (npm `smpp` 0.5.1, CommonJS, no types): the independent SMPP
 * implementation Parley's wire is checked against. Only what the interop tests use is declared;
 * every field of a decoded PDU is `unknown` and the tests narrow it themselves.
 *
 * What node-smpp does that a reader of the comparisons must know (from its lib/pdu.js, lib/defs.js):
 * - `short_message` and the `message_payload` TLV are decoded through its `message` filter into
 *   `{ message }` (or `{ udh, message }` when esm_class has UDHI), `message` being a string for
 *   data_coding 0/1 (read as GSM 03.38, one septet per octet), 3 (Latin-1) and 8 (UTF-16BE), and
 *   the raw Buffer for any other coding it has no table for (data_coding & 0x0F picks the table).
 * - schedule_delivery_time, validity_period and final_date are decoded into `Date`s.
 * - an unknown TLV is kept on decode under its numeric tag (`pdu['5121']`) but never re-encoded.
 * - a PDU built with a non-zero command_status is encoded as a bare 16-octet header.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Server as NetServer, Socket } from 'node:net';

export type NodeSmppOptions = Record<string, unknown>;

export interface NodeSmppPdu {
  readonly command: string;
  readonly command_id: number;
  readonly command_length: number;
  readonly command_status: number;
  readonly sequence_number: number;
  isResponse(): boolean;
  response(options?: NodeSmppOptions): NodeSmppPdu;
  toBuffer(): Buffer;
  /** Body fields and TLVs, by node-smpp's names (unknown TLVs by numeric tag). */
  readonly [field: string]: unknown;
}

export interface NodeSmppPduClass {
  new (command: string, options?: NodeSmppOptions): NodeSmppPdu;
  /** false when the buffer is shorter than 16 octets or than its command_length. */
  fromBuffer(buffer: Buffer): NodeSmppPdu | false;
  maxLength: number;
}

export type NodeSmppCallback = (pdu: NodeSmppPdu) => void;

export interface NodeSmppSession extends EventEmitter {
  readonly socket: Socket;
  send(pdu: NodeSmppPdu, onResponse?: NodeSmppCallback, onSent?: NodeSmppCallback): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
  bind_transceiver(options: NodeSmppOptions, onResponse: NodeSmppCallback): boolean;
  submit_sm(options: NodeSmppOptions, onResponse: NodeSmppCallback): boolean;
  enquire_link(options: NodeSmppOptions, onResponse: NodeSmppCallback): boolean;
  unbind(options: NodeSmppOptions, onResponse: NodeSmppCallback): boolean;
}

export interface NodeSmppServer extends NetServer {
  readonly sessions: NodeSmppSession[];
}

interface NodeSmppModule {
  PDU: NodeSmppPduClass;
  createServer(listener: (session: NodeSmppSession) => void): NodeSmppServer;
  connect(options: { host: string; port: number }, listener?: () => void): NodeSmppSession;
  commands: Record<string, { id: number }>;
  tlvs: Record<string, { id: number }>;
  errors: Record<string, number>;
}

const nodeSmpp = createRequire(import.meta.url)('smpp') as NodeSmppModule;

export const NodeSmppPDU: NodeSmppPduClass = nodeSmpp.PDU;
export const createNodeSmppServer = (listener: (session: NodeSmppSession) => void): NodeSmppServer =>
  nodeSmpp.createServer(listener);
export const connectNodeSmpp = (options: { host: string; port: number }): NodeSmppSession => nodeSmpp.connect(options);
/** command name -> command_id, as node-smpp knows them. */
export const nodeSmppCommandIds: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(nodeSmpp.commands).map(([name, def]) => [name, def.id]),
);
/** TLV name -> tag, as node-smpp knows them (SMPP 5.0 names where they differ). */
export const nodeSmppTlvTags: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(nodeSmpp.tlvs).map(([name, def]) => [name, def.id]),
);
export const nodeSmppErrors: Readonly<Record<string, number>> = nodeSmpp.errors;

// ------------------------------------------------------------------ narrowing helpers for tests

export function fieldOf(pdu: NodeSmppPdu, name: string): unknown {
  return pdu[name];
}

export function stringField(pdu: NodeSmppPdu, name: string): string {
  const v = pdu[name];
  if (typeof v !== 'string') throw new TypeError(`node-smpp ${pdu.command}.${name} is ${typeof v}, not a string`);
  return v;
}

export function numberField(pdu: NodeSmppPdu, name: string): number {
  const v = pdu[name];
  if (typeof v !== 'number') throw new TypeError(`node-smpp ${pdu.command}.${name} is ${typeof v}, not a number`);
  return v;
}

export function bufferField(pdu: NodeSmppPdu, name: string): Buffer {
  const v = pdu[name];
  if (!Buffer.isBuffer(v)) throw new TypeError(`node-smpp ${pdu.command}.${name} is not a Buffer`);
  return v;
}

export function dateField(pdu: NodeSmppPdu, name: string): Date {
  const v = pdu[name];
  if (!(v instanceof Date)) throw new TypeError(`node-smpp ${pdu.command}.${name} is not a Date`);
  return v;
}

/** node-smpp's decoded short_message / message_payload: `{ message, udh? }`. */
export interface NodeSmppMessage {
  readonly message: string | Buffer;
  readonly udh?: readonly Buffer[];
}

export function messageField(pdu: NodeSmppPdu, name: string): NodeSmppMessage {
  const v = pdu[name];
  if (typeof v !== 'object' || v === null || Buffer.isBuffer(v) || !('message' in v)) {
    throw new TypeError(`node-smpp ${pdu.command}.${name} is not a decoded { message }`);
  }
  const message: unknown = v.message;
  if (typeof message !== 'string' && !Buffer.isBuffer(message)) {
    throw new TypeError(`node-smpp ${pdu.command}.${name}.message is neither a string nor a Buffer`);
  }
  if (!('udh' in v)) return { message };
  const udh: unknown = v.udh;
  if (!Array.isArray(udh) || !udh.every((ie: unknown) => Buffer.isBuffer(ie))) {
    throw new TypeError(`node-smpp ${pdu.command}.${name}.udh is not a list of Buffers`);
  }
  return { message, udh: udh as Buffer[] };
}

/** Decodes with node-smpp, failing loudly where it returns false. */
export function decodeWithNodeSmpp(buffer: Buffer): NodeSmppPdu {
  const pdu = NodeSmppPDU.fromBuffer(buffer);
  if (pdu === false) throw new Error(`node-smpp refused ${buffer.length} octets`);
  return pdu;
}

/** Encodes with node-smpp. */
export function encodeWithNodeSmpp(command: string, options: NodeSmppOptions): Buffer {
  return new NodeSmppPDU(command, options).toBuffer();
}

/** Own enumerable keys of a decoded PDU that are body fields or TLVs (not header or methods). */
export function bodyKeysOf(pdu: NodeSmppPdu): string[] {
  const header = new Set(['command', 'command_id', 'command_length', 'command_status', 'sequence_number']);
  return Object.keys(pdu).filter((k) => !header.has(k));
}
