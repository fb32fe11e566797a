/**
 * One SMPP 3.4 session over one socket, in client (ESME) or server (SMSC) mode.
 *
 * The session owns the socket and routes each PDU; the rest is delegated to parts it owns: the
 * link (framing, writes, read pausing: `session-link.ts`), the window of outstanding requests
 * (`in-flight-window.ts`), the timers (`keepalive.ts`), the state machine and binds
 * (`session-bind.ts`) and the application's requests (`incoming-requests.ts`); its vocabulary is
 * in `session-types.ts`. It never reconnects: a
 * reconnect is a new socket and a new session (see `smsc-bind.ts`), so no parser state or pending
 * request survives into the next connection.
 *
 * Guarantees the rest of Parley relies on:
 * - every request gets exactly one outcome: its response, or a typed `SmppSessionError`
 *   (response_timeout, connection_closed, generic_nack, ...) the moment the connection ends;
 * - malformed input is answered (error response or generic_nack) and never reaches a handler;
 * - an exception or rejection in a handler is logged and answered, never fatal to the session;
 * - a silent peer is detected by enquire_link and a watchdog, a stalled frame by a frame timer.
 */
import type { Socket } from 'node:net';
import { COMMAND_IDS, isResponseId } from './commands.ts';
import { ESME_RINVCMDID, ESME_RINVCMDLEN, ESME_ROK, commandStatusName } from './command-status.ts';
import { decodeOwnedFrame, encodeRequest, makePdu, type PduDecodeError } from './codec.ts';
import { InFlightWindow } from './in-flight-window.ts';
import { IncomingRequests } from './incoming-requests.ts';
import { Keepalive } from './keepalive.ts';
import type { BindFields, Pdu, PduInit, PduOf, RequestCommand } from './pdu.ts';
import { SessionBind } from './session-bind.ts';
import { SessionLink } from './session-link.ts';
import { BOUND_STATE, incomingStatus, isBound, responseCommandOf } from './session-rules.ts';
import {
  DEFAULT_SESSION_TIMERS,
  SmppSessionError,
  type BindPdu,
  type BindType,
  type CloseCode,
  type CloseReason,
  type IncomingRequest,
  type SessionHandlers,
  type SessionMode,
  type SessionOptions,
  type SessionState,
  type SessionTimers,
} from './session-types.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { RateLimitedLog } from '../lib/rate-limited-log.ts';

export * from './session-types.ts';

export class SmppSession {
  readonly mode: SessionMode;
  readonly timers: Readonly<SessionTimers>;
  readonly closed: Promise<CloseReason>;

  private readonly socket: Socket;
  private readonly link: SessionLink;
  private readonly window: InFlightWindow;
  private readonly keepalive: Keepalive;
  private readonly incoming: IncomingRequests;
  private readonly binding: SessionBind;
  private readonly handlers: SessionHandlers;
  private readonly log: Logger;
  /** What the peer can set off once per PDU (a malformed one, a stray response): limited, counted. */
  private readonly peerLog: RateLimitedLog;
  private resolveClosed!: (reason: CloseReason) => void;
  private closeReason: CloseReason | undefined;

  constructor(socket: Socket, options: SessionOptions) {
    this.mode = options.mode;
    this.timers = Object.freeze({ ...DEFAULT_SESSION_TIMERS, ...options.timers });
    this.handlers = options.handlers ?? {};
    this.log = options.logger ?? silentLogger;
    this.peerLog = new RateLimitedLog(this.log);
    this.socket = socket;
    this.link = new SessionLink(socket, this.timers.maxPduLength, this.timers.maxWriteBufferBytes, this.log);
    this.window = new InFlightWindow(this.timers.responseTimeoutMs);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.finish({ code: 'socket_error', message: err.message }));
    socket.on('close', () => this.finish({ code: 'peer_closed', message: 'connection closed' }));
    socket.on('end', () => {
      // The peer half-closed: SMPP has no use for a half-open link, so close ours too.
      socket.end();
    });
    this.incoming = new IncomingRequests(this, this.handlers, this.link, this.timers.incomingWindow, this.log);
    this.binding = new SessionBind(this, this.mode, this.window, this.link, this.incoming, this.handlers, this.log);
    this.keepalive = new Keepalive(this, this.window, this.link, this.timers, this.log);
  }

  get state(): SessionState {
    return this.binding.state;
  }

  get isBound(): boolean {
    return isBound(this.binding.state);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.window.size;
  }

  get freeWindow(): number {
    return this.isBound ? Math.max(0, this.timers.windowSize - this.window.size) : 0;
  }

  /**
   * When the read now being handled came off the socket (performance.now()): handlers run inside
   * that read, so a request's arrival is stamped before the PDUs ahead of it in the same read are
   * decoded and answered (the simulator's arrival log, which rate tests count).
   */
  get lastReadAt(): number {
    return this.link.readAt;
  }

  get remoteAddress(): string {
    return this.link.remoteAddress;
  }

  // ---------------------------------------------------------------- outgoing

  /**
   * Sends a request and resolves with its response (whatever its command_status). Rejects with
   * window_full when the window is full: the caller chooses to wait (`waitForWindow`) or go elsewhere.
   */
  request<C extends RequestCommand>(command: C, init: PduInit<C>): Promise<Pdu> {
    if (this.binding.state === 'closed' || this.binding.state === 'unbinding') {
      return Promise.reject(new SmppSessionError('connection_closed', `session is ${this.binding.state}`));
    }
    if (this.socket.writableEnded) {
      // The peer half-closed and this side answered with its FIN: nothing more can be sent.
      return Promise.reject(new SmppSessionError('connection_closed', 'the connection is closing'));
    }
    const sessionCommand = command === 'enquire_link' || command === 'unbind' || command in BOUND_STATE;
    if (!sessionCommand && !this.isBound) {
      return Promise.reject(new SmppSessionError('not_bound', `cannot send ${command} while ${this.binding.state}`));
    }
    if (!sessionCommand && this.window.size >= this.timers.windowSize) {
      return Promise.reject(new SmppSessionError('window_full', `window of ${this.timers.windowSize} is full`));
    }
    const sequence = this.window.allocateSequence();
    let encoded: Buffer;
    try {
      encoded = encodeRequest(command, sequence, init);
    } catch (err) {
      return Promise.reject(
        new SmppSessionError('encode_failed', `${command}: ${(err as Error).message}`, undefined, { cause: err }),
      );
    }
    return new Promise<Pdu>((resolve, reject) => {
      this.window.track(sequence, {
        command,
        deadline: Date.now() + this.timers.responseTimeoutMs,
        resolve,
        reject,
      });
      this.link.write(encoded);
    });
  }

  /** Resolves when the window has room (or the session ends: check `isBound` after). */
  waitForWindow(): Promise<void> {
    if (this.freeWindow > 0 || this.binding.state === 'closed') return Promise.resolve();
    return this.window.waitForRoom();
  }

  /** Client mode: binds and resolves with bind_resp; rejects with bind_refused on a non-zero status. */
  bind(type: BindType, fields: Partial<BindFields> & Pick<BindFields, 'system_id' | 'password'>): Promise<PduOf<'bind_transceiver_resp'>> {
    return this.binding.bind(type, fields);
  }

  /** Waits until no request is outstanding, or the time is up. Resolves with what is still pending. */
  drain(timeoutMs: number): Promise<number> {
    return this.window.drain(timeoutMs, () => this.binding.state === 'closed');
  }

  /** Sends unbind, waits up to `timeoutMs` for unbind_resp, then closes the socket. */
  unbind(timeoutMs = 1000): Promise<void> {
    return this.binding.unbind(timeoutMs);
  }

  /** Closes the connection now; pending requests fail with connection_closed. */
  close(code: CloseCode = 'local', message = 'closed locally'): void {
    if (this.binding.state === 'closed') return;
    this.finish({ code, message });
    this.socket.destroy();
  }

  // ---------------------------------------------------------------- internals

  /** Exposed for tests of the wrap-around; not part of the wire behaviour. */
  setNextSequenceForTest(seq: number): void {
    this.window.setNextSequence(seq);
  }

  private onData(chunk: Buffer): void {
    const { frames, invalid } = this.link.read(chunk);
    for (const frame of frames) {
      if (this.binding.state === 'closed') return;
      this.onFrame(frame);
    }
    if (invalid) {
      this.log.warn({ peer: this.remoteAddress, ...invalid }, 'smpp invalid command_length; closing');
      this.link.sendPdu(makePdu('generic_nack', { command_status: ESME_RINVCMDLEN, sequence_number: invalid.sequenceNumber }));
      this.finish({ code: 'invalid_length', message: invalid.reason });
      // Let the nack leave before the socket goes.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 100).unref();
    }
  }

  private onFrame(frame: Buffer): void {
    // The reader's frames are copies no one else holds: the PDU may keep views into them.
    const result = decodeOwnedFrame(frame);
    if (!result.ok) {
      this.onMalformed(result.error);
      return;
    }
    const pdu = result.pdu;
    if (isResponseId(COMMAND_IDS[pdu.command])) this.onResponse(pdu);
    else this.onIncomingRequest(pdu, frame);
  }

  private onMalformed(error: PduDecodeError): void {
    this.peerLog.warn(
      { peer: this.remoteAddress, command: error.command, sequence: error.sequenceNumber, status: commandStatusName(error.commandStatus), reason: error.reason },
      'smpp malformed pdu',
    );
    if (error.command !== undefined && isResponseId(error.commandId)) {
      // A response we cannot read still settles its request: the caller must not wait for it.
      const pending = this.window.take(error.sequenceNumber);
      pending?.reject(new SmppSessionError('malformed_response', error.reason, undefined));
      return;
    }
    const responseCommand = error.command === undefined ? undefined : responseCommandOf(error.command);
    if (responseCommand !== undefined) {
      this.link.sendPdu(
        makePdu(responseCommand, {
          command_status: error.commandStatus,
          sequence_number: error.sequenceNumber,
        } as PduInit<typeof responseCommand>) as Pdu,
      );
    } else {
      this.link.sendPdu(makePdu('generic_nack', { command_status: error.commandStatus, sequence_number: error.sequenceNumber }));
    }
  }

  private onResponse(pdu: Pdu): void {
    const pending = this.window.take(pdu.sequence_number);
    if (!pending) {
      this.peerLog.warn({ peer: this.remoteAddress, command: pdu.command, sequence: pdu.sequence_number }, 'smpp response matches no request');
      return;
    }
    if (pdu.command === 'generic_nack') {
      pending.reject(
        new SmppSessionError('generic_nack', `${pending.command} answered generic_nack ${commandStatusName(pdu.command_status)}`, pdu.command_status),
      );
      return;
    }
    if (pdu.command !== responseCommandOf(pending.command)) {
      pending.reject(new SmppSessionError('unexpected_response', `${pending.command} answered with ${pdu.command}`, pdu.command_status));
      return;
    }
    if (this.mode === 'client' && pdu.command_status === ESME_ROK && pending.command in BOUND_STATE) {
      // Bound now, before anything else in this read is handled: an SMSC may send deliver_sm right
      // behind its bind_resp, and it must not be refused as sent before the bind.
      this.binding.set(BOUND_STATE[pending.command as BindPdu['command']]);
    }
    pending.resolve(pdu);
  }

  private onIncomingRequest(pdu: Pdu, frame: Buffer): void {
    const status = incomingStatus(this.mode, this.binding.state, pdu.command);
    const responseCommand = responseCommandOf(pdu.command);
    if (status !== ESME_ROK) {
      this.peerLog.warn({ peer: this.remoteAddress, command: pdu.command, state: this.binding.state, status: commandStatusName(status) }, 'smpp request refused in this state');
      if (status === ESME_RINVCMDID || responseCommand === undefined) {
        this.link.sendPdu(makePdu('generic_nack', { command_status: status, sequence_number: pdu.sequence_number }));
      } else {
        this.link.answer(responseCommand, pdu.sequence_number, { command_status: status });
      }
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.link.answer('enquire_link_resp', pdu.sequence_number, {});
        return;
      case 'unbind':
        this.link.answer('unbind_resp', pdu.sequence_number, {});
        this.binding.set('unbinding');
        this.socket.end();
        setTimeout(() => this.close('unbound', 'peer unbound'), 1000).unref();
        return;
      case 'generic_nack':
        // A nack of one of our requests: settle it. A nack with no matching request is only logged.
        this.onResponse(pdu);
        return;
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.binding.onBindRequest(pdu);
        return;
      default:
        this.incoming.dispatch(pdu as IncomingRequest, responseCommand, frame);
    }
  }

  private finish(reason: CloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.keepalive.stop();
    this.link.closed = true;
    this.binding.set('closed');
    const failed = this.window.failAll(reason.message);
    this.peerLog.flush();
    this.log.info({ peer: this.remoteAddress, reason: reason.code, detail: reason.message, failedRequests: failed }, 'smpp session closed');
    this.binding.safely('onClose', () => this.handlers.onClose?.(reason, this));
    this.resolveClosed(reason);
  }
}

