/**
 * The vocabulary of an SMPP session: its modes, states and close reasons, the typed error every
 * failed request ends in, the timers and their defaults, and the handler contract the application
 * implements. Split from `session.ts` so the helpers the session owns can share it.
 */
import type { BindRespFields, MessageIdFields, PduOf, QuerySmRespFields, RequestCommand } from './pdu.ts';
import type { Tlv } from './tlv.ts';
import type { SmppSession } from './session.ts';
import { ParleyError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

export type SessionMode = 'client' | 'server';

export type SessionState = 'open' | 'binding' | 'bound_tx' | 'bound_rx' | 'bound_trx' | 'unbinding' | 'closed';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';

export type SessionErrorCode =
  | 'connection_closed'
  | 'response_timeout'
  | 'window_full'
  | 'not_bound'
  | 'bind_refused'
  | 'generic_nack'
  | 'malformed_response'
  | 'unexpected_response'
  | 'encode_failed';

/** Why a request did not get a usable response. `commandStatus` is set when the peer sent one. */
export class SmppSessionError extends ParleyError {
  declare readonly code: SessionErrorCode;
  readonly commandStatus: number | undefined;

  constructor(code: SessionErrorCode, message: string, commandStatus?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.commandStatus = commandStatus;
  }
}

export type CloseCode =
  | 'local'
  | 'peer_closed'
  | 'socket_error'
  | 'unbound'
  | 'silent_peer'
  | 'frame_timeout'
  | 'invalid_length'
  | 'bind_timeout';

export interface CloseReason {
  readonly code: CloseCode;
  readonly message: string;
}

export interface SessionTimers {
  /** Most requests this side may have unanswered at once. */
  windowSize: number;
  /** How long a request waits for its response before it fails with response_timeout. */
  responseTimeoutMs: number;
  /** Idle time after which an enquire_link is sent. */
  enquireLinkIntervalMs: number;
  /** Time without a single octet from the peer after which the connection is closed as dead. */
  silentPeerTimeoutMs: number;
  /** Time a partly received PDU may wait for its remaining octets, counted from its first octet. */
  frameTimeoutMs: number;
  /** Client: wait for bind_resp; server: wait for the first bind after connect. */
  bindTimeoutMs: number;
  /** Largest command_length accepted; larger is answered ESME_RINVCMDLEN and the link is closed. */
  maxPduLength: number;
  /** Most incoming requests awaiting this side's answer before the socket stops being read. */
  incomingWindow: number;
  /** Octets queued on the socket past which reading pauses until it drains. */
  maxWriteBufferBytes: number;
}

export const DEFAULT_SESSION_TIMERS: Readonly<SessionTimers> = Object.freeze({
  windowSize: 100,
  responseTimeoutMs: 10_000,
  enquireLinkIntervalMs: 30_000,
  silentPeerTimeoutMs: 45_000,
  frameTimeoutMs: 10_000,
  bindTimeoutMs: 10_000,
  maxPduLength: 65_536,
  incomingWindow: 1_000,
  maxWriteBufferBytes: 1 << 20,
});

/** Fields a handler answers a request with; the session builds the *_resp PDU around them. */
export type Reply = Partial<MessageIdFields & QuerySmRespFields & BindRespFields> & {
  command_status?: number;
  tlvs?: Tlv[];
};

export type BindPdu = PduOf<'bind_transmitter'> | PduOf<'bind_receiver'> | PduOf<'bind_transceiver'>;

/** Requests that reach the application (bind, unbind and enquire_link are the session's own). */
type ApplicationCommand = Exclude<RequestCommand, BindPdu['command'] | 'unbind' | 'enquire_link'>;
export type IncomingRequest = { [C in ApplicationCommand]: PduOf<C> }[ApplicationCommand];

export interface SessionHandlers {
  /** Server mode: accept (command_status 0) or refuse a bind. */
  onBind?(pdu: BindPdu, session: SmppSession): Promise<Reply> | Reply;
  /**
   * Any other request from the peer. The answer is sent when the returned promise settles.
   * `frame` is the request's octets as they came off the wire, header included (kept with what
   * the application sets aside, e.g. a quarantined deliver_sm).
   */
  onRequest?(pdu: IncomingRequest, session: SmppSession, frame: Buffer): Promise<Reply | void> | Reply | void;
  onStateChange?(state: SessionState, previous: SessionState, session: SmppSession): void;
  onClose?(reason: CloseReason, session: SmppSession): void;
}

export interface SessionOptions {
  mode: SessionMode;
  timers?: Partial<SessionTimers>;
  handlers?: SessionHandlers;
  logger?: Logger;
}
