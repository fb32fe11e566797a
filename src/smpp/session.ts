/**
 * One SMPP 3.4 session over one socket, in client (ESME) or server (SMSC) mode.
 *
 * The session owns the socket, a fresh frame reader, the window of outstanding requests and the
 * timers. It never reconnects: a reconnect is a new socket and a new session (see `smsc-bind.ts`),
 * so no parser state or pending request survives into the next connection.
 *
 * Guarantees the rest of Parley relies on:
 * - every request gets exactly one outcome: its response, or a typed `SmppSessionError`
 *   (response_timeout, connection_closed, generic_nack, ...) the moment the connection ends;
 * - malformed input is answered (error response or generic_nack) and never reaches a handler;
 * - an exception or rejection in a handler is logged and answered, never fatal to the session;
 * - a silent peer is detected by enquire_link and a watchdog, a stalled frame by a frame timer.
 */
import type { Socket } from 'node:net';
import { COMMAND_IDS, isResponseId, type CommandName } from './commands.ts';
import { ESME_RINVCMDID, ESME_RINVCMDLEN, ESME_ROK, ESME_RX_T_APPN, commandStatusName } from './command-status.ts';
import { decodeOwnedFrame, encodePdu, encodeRequest, encodeSimpleResponse, makePdu, type PduDecodeError } from './codec.ts';
import { FrameReader } from './frame-reader.ts';
import type {
  BindFields,
  BindRespFields,
  MessageIdFields,
  Pdu,
  PduInit,
  PduOf,
  QuerySmRespFields,
  RequestCommand,
} from './pdu.ts';
import { SMPP_VERSION_34 } from './pdu.ts';
import type { Tlv } from './tlv.ts';
import { ParleyError } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { RateLimitedLog } from '../lib/rate-limited-log.ts';
import { orTimeout, sleep } from '../lib/timeout.ts';
import { BIND_COMMAND, BOUND_STATE, SETTLED, incomingStatus, isBound, isThenable, responseCommandOf, simpleReplyMessageId } from './session-rules.ts';

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

interface Pending {
  readonly command: CommandName;
  readonly deadline: number;
  resolve(pdu: Pdu): void;
  reject(err: SmppSessionError): void;
}

const MAX_SEQUENCE = 0x7fffffff;


export class SmppSession {
  readonly mode: SessionMode;
  readonly timers: Readonly<SessionTimers>;
  readonly closed: Promise<CloseReason>;

  private readonly socket: Socket;
  private readonly reader: FrameReader;
  private readonly handlers: SessionHandlers;
  private readonly log: Logger;
  /** What the peer can set off once per PDU (a malformed one, a stray response): limited, counted. */
  private readonly peerLog: RateLimitedLog;
  private readonly pending = new Map<number, Pending>();
  private stateValue: SessionState = 'open';
  private nextSequence = 1;
  private lastReceivedAt = Date.now();
  private readAt = performance.now();
  /** When the first octet of the frame now held partly by the reader arrived; undefined when none is. */
  private partialSince: number | undefined;
  private readonly openedAt = Date.now();
  private enquireOutstanding = false;
  private unansweredIncoming = 0;
  private readPausedFor = new Set<'incoming' | 'write'>();
  private corked = false;
  private ticker: NodeJS.Timeout | undefined;
  private resolveClosed!: (reason: CloseReason) => void;
  private closeReason: CloseReason | undefined;
  private windowWaiters: (() => void)[] = [];

  constructor(socket: Socket, options: SessionOptions) {
    this.mode = options.mode;
    this.timers = Object.freeze({ ...DEFAULT_SESSION_TIMERS, ...options.timers });
    this.handlers = options.handlers ?? {};
    this.log = options.logger ?? silentLogger;
    this.peerLog = new RateLimitedLog(this.log);
    this.socket = socket;
    this.reader = new FrameReader(this.timers.maxPduLength);
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
    const tick = Math.max(
      5,
      Math.min(
        1000,
        this.timers.responseTimeoutMs / 4,
        this.timers.enquireLinkIntervalMs / 4,
        this.timers.frameTimeoutMs / 4,
        this.timers.bindTimeoutMs / 4,
        this.timers.silentPeerTimeoutMs / 4,
      ),
    );
    this.ticker = setInterval(() => this.onTick(), tick);
    this.ticker.unref();
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get isBound(): boolean {
    return isBound(this.stateValue);
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  get freeWindow(): number {
    return this.isBound ? Math.max(0, this.timers.windowSize - this.pending.size) : 0;
  }

  /**
   * When the read now being handled came off the socket (performance.now()): handlers run inside
   * that read, so a request's arrival is stamped before the PDUs ahead of it in the same read are
   * decoded and answered (the simulator's arrival log, which rate tests count).
   */
  get lastReadAt(): number {
    return this.readAt;
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  // ---------------------------------------------------------------- outgoing

  /**
   * Sends a request and resolves with its response (whatever its command_status). Rejects with
   * window_full when the window is full: the caller chooses to wait (`waitForWindow`) or go elsewhere.
   */
  request<C extends RequestCommand>(command: C, init: PduInit<C>): Promise<Pdu> {
    if (this.stateValue === 'closed' || this.stateValue === 'unbinding') {
      return Promise.reject(new SmppSessionError('connection_closed', `session is ${this.stateValue}`));
    }
    if (this.socket.writableEnded) {
      // The peer half-closed and this side answered with its FIN: nothing more can be sent.
      return Promise.reject(new SmppSessionError('connection_closed', 'the connection is closing'));
    }
    const sessionCommand = command === 'enquire_link' || command === 'unbind' || command in BOUND_STATE;
    if (!sessionCommand && !this.isBound) {
      return Promise.reject(new SmppSessionError('not_bound', `cannot send ${command} while ${this.stateValue}`));
    }
    if (!sessionCommand && this.pending.size >= this.timers.windowSize) {
      return Promise.reject(new SmppSessionError('window_full', `window of ${this.timers.windowSize} is full`));
    }
    const sequence = this.allocateSequence();
    let encoded: Buffer;
    try {
      encoded = encodeRequest(command, sequence, init);
    } catch (err) {
      return Promise.reject(
        new SmppSessionError('encode_failed', `${command}: ${(err as Error).message}`, undefined, { cause: err }),
      );
    }
    return new Promise<Pdu>((resolve, reject) => {
      this.pending.set(sequence, {
        command,
        deadline: Date.now() + this.timers.responseTimeoutMs,
        resolve,
        reject,
      });
      this.write(encoded);
    });
  }

  /** Resolves when the window has room (or the session ends: check `isBound` after). */
  waitForWindow(): Promise<void> {
    if (this.freeWindow > 0 || this.stateValue === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.windowWaiters.push(resolve));
  }

  /** Client mode: binds and resolves with bind_resp; rejects with bind_refused on a non-zero status. */
  async bind(type: BindType, fields: Partial<BindFields> & Pick<BindFields, 'system_id' | 'password'>): Promise<PduOf<'bind_transceiver_resp'>> {
    if (this.mode !== 'client') throw new SmppSessionError('not_bound', 'only a client session binds');
    if (this.stateValue !== 'open') throw new SmppSessionError('not_bound', `cannot bind while ${this.stateValue}`);
    const command = BIND_COMMAND[type];
    this.setState('binding');
    let resp: Pdu;
    try {
      resp = await this.request(command, {
        system_type: '',
        interface_version: SMPP_VERSION_34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
        ...fields,
      });
    } catch (err) {
      // A generic_nack is a refusal as definite as a bind_resp with an error: the link is open and
      // may bind again. A timeout or an unreadable answer leaves the peer's view unknown, so the
      // session stays 'binding' until the bind timer closes it.
      if (err instanceof SmppSessionError && err.code === 'generic_nack' && (this.stateValue as SessionState) === 'binding') {
        this.setState('open');
      }
      throw err;
    }
    if (resp.command_status !== ESME_ROK) {
      const name = commandStatusName(resp.command_status);
      this.setState('open');
      throw new SmppSessionError('bind_refused', `${command} refused: ${name}`, resp.command_status);
    }
    this.setState(BOUND_STATE[command]);
    return resp as PduOf<'bind_transceiver_resp'>;
  }

  /** Waits until no request is outstanding, or the time is up. Resolves with what is still pending. */
  async drain(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 && this.stateValue !== 'closed' && Date.now() < until) {
      await sleep(Math.min(20, Math.max(1, until - Date.now())));
    }
    return this.pending.size;
  }

  /** Sends unbind, waits up to `timeoutMs` for unbind_resp, then closes the socket. */
  async unbind(timeoutMs = 1000): Promise<void> {
    if (this.stateValue === 'closed') return;
    if (this.isBound) {
      const answered = this.request('unbind', {}).then(
        () => undefined,
        () => undefined,
      );
      this.setState('unbinding');
      await orTimeout(answered, timeoutMs, undefined);
    }
    this.close('unbound', 'unbind');
  }

  /** Closes the connection now; pending requests fail with connection_closed. */
  close(code: CloseCode = 'local', message = 'closed locally'): void {
    if (this.stateValue === 'closed') return;
    this.finish({ code, message });
    this.socket.destroy();
  }

  // ---------------------------------------------------------------- internals

  private allocateSequence(): number {
    // 1..0x7FFFFFFF, wrapping, skipping any number still awaiting its response.
    for (;;) {
      const seq = this.nextSequence;
      this.nextSequence = seq >= MAX_SEQUENCE ? 1 : seq + 1;
      if (!this.pending.has(seq)) return seq;
    }
  }

  /** Exposed for tests of the wrap-around; not part of the wire behaviour. */
  setNextSequenceForTest(seq: number): void {
    this.nextSequence = seq;
  }

  private setState(next: SessionState): void {
    const previous = this.stateValue;
    if (previous === next) return;
    this.stateValue = next;
    this.log.info({ from: previous, to: next, mode: this.mode, peer: this.remoteAddress }, 'smpp session state');
    if (isBound(next)) this.releaseWindowWaiters();
    this.safely('onStateChange', () => this.handlers.onStateChange?.(next, previous, this));
  }

  private write(buf: Buffer): void {
    // writableEnded: this side already sent its FIN (after answering the peer's unbind). A PDU the
    // peer sends after its own unbind cannot be answered; writing would only raise 'write after
    // end' and close the session as a socket error instead of an unbind.
    if (this.stateValue === 'closed' || this.socket.destroyed || this.socket.writableEnded) return;
    // Coalesce everything written in one tick into as few TCP segments as possible.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(buf);
    if (this.socket.writableLength > this.timers.maxWriteBufferBytes && !this.readPausedFor.has('write')) {
      // The peer is not reading: stop reading its requests so answers cannot pile up unbounded.
      this.pauseReading('write');
      this.socket.once('drain', () => this.resumeReading('write'));
    }
  }

  private sendPdu(pdu: Pdu): void {
    try {
      this.write(encodePdu(pdu));
    } catch (err) {
      this.log.error({ err, command: pdu.command }, 'smpp could not encode an answer');
    }
  }

  private pauseReading(why: 'incoming' | 'write'): void {
    this.readPausedFor.add(why);
    this.socket.pause();
  }

  private resumeReading(why: 'incoming' | 'write'): void {
    this.readPausedFor.delete(why);
    if (this.readPausedFor.size === 0 && this.stateValue !== 'closed') this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    this.readAt = performance.now();
    const now = Date.now();
    this.lastReceivedAt = now;
    const heldBefore = this.reader.bufferedBytes;
    const { frames, invalid } = this.reader.push(chunk);
    // The frame timer runs from a frame's first octet, not its latest one: a peer trickling an
    // octet now and then must not hold a half-read PDU (and the session) open for ever.
    if (this.reader.bufferedBytes === 0) this.partialSince = undefined;
    else if (heldBefore === 0 || frames.length > 0) this.partialSince = now;
    for (const frame of frames) {
      if (this.stateValue === 'closed') return;
      this.onFrame(frame);
    }
    if (invalid) {
      this.log.warn({ peer: this.remoteAddress, ...invalid }, 'smpp invalid command_length; closing');
      this.sendPdu(makePdu('generic_nack', { command_status: ESME_RINVCMDLEN, sequence_number: invalid.sequenceNumber }));
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
      const pending = this.takePending(error.sequenceNumber);
      pending?.reject(new SmppSessionError('malformed_response', error.reason, undefined));
      return;
    }
    const responseCommand = error.command === undefined ? undefined : responseCommandOf(error.command);
    if (responseCommand !== undefined) {
      this.sendPdu(
        makePdu(responseCommand, {
          command_status: error.commandStatus,
          sequence_number: error.sequenceNumber,
        } as PduInit<typeof responseCommand>) as Pdu,
      );
    } else {
      this.sendPdu(makePdu('generic_nack', { command_status: error.commandStatus, sequence_number: error.sequenceNumber }));
    }
  }

  private takePending(sequence: number): Pending | undefined {
    const pending = this.pending.get(sequence);
    if (!pending) return undefined;
    this.pending.delete(sequence);
    if (this.windowWaiters.length > 0) this.releaseWindowWaiters();
    return pending;
  }

  private releaseWindowWaiters(): void {
    const waiters = this.windowWaiters;
    this.windowWaiters = [];
    for (const w of waiters) w();
  }

  private onResponse(pdu: Pdu): void {
    const pending = this.takePending(pdu.sequence_number);
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
      this.setState(BOUND_STATE[pending.command as BindPdu['command']]);
    }
    pending.resolve(pdu);
  }

  private onIncomingRequest(pdu: Pdu, frame: Buffer): void {
    const status = incomingStatus(this.mode, this.stateValue, pdu.command);
    const responseCommand = responseCommandOf(pdu.command);
    if (status !== ESME_ROK) {
      this.peerLog.warn({ peer: this.remoteAddress, command: pdu.command, state: this.stateValue, status: commandStatusName(status) }, 'smpp request refused in this state');
      if (status === ESME_RINVCMDID || responseCommand === undefined) {
        this.sendPdu(makePdu('generic_nack', { command_status: status, sequence_number: pdu.sequence_number }));
      } else {
        this.answer(responseCommand, pdu.sequence_number, { command_status: status });
      }
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.answer('enquire_link_resp', pdu.sequence_number, {});
        return;
      case 'unbind':
        this.answer('unbind_resp', pdu.sequence_number, {});
        this.setState('unbinding');
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
        this.onBindRequest(pdu);
        return;
      default:
        this.dispatch(pdu as IncomingRequest, responseCommand, frame);
    }
  }

  private onBindRequest(pdu: BindPdu): void {
    this.setState('binding');
    const decide = this.handlers.onBind
      ? this.call(() => this.handlers.onBind!(pdu, this))
      : Promise.resolve<Reply | undefined>({ command_status: ESME_ROK });
    decide.then((reply) => {
      if (this.stateValue === 'closed') return;
      const status = this.answer(`${pdu.command}_resp` as CommandName, pdu.sequence_number, {
        system_id: reply?.system_id ?? 'parley',
        ...reply,
        command_status: reply?.command_status ?? ESME_ROK,
      });
      this.setState(status === ESME_ROK ? BOUND_STATE[pdu.command] : 'open');
    }).catch((err: unknown) => this.log.error({ err, peer: this.remoteAddress }, 'answering a bind failed'));
  }

  private dispatch(pdu: IncomingRequest, responseCommand: CommandName | undefined, frame: Buffer): void {
    const handler = this.handlers.onRequest;
    this.unansweredIncoming++;
    if (this.unansweredIncoming >= this.timers.incomingWindow) this.pauseReading('incoming');
    const sequence = pdu.sequence_number;
    let reply: Reply | undefined;
    let later: PromiseLike<Reply | void> | undefined;
    try {
      const outcome = handler?.(pdu, this, frame);
      if (isThenable(outcome)) later = outcome;
      else reply = outcome ?? undefined;
    } catch (err) {
      reply = this.handlerFailed(err);
    }
    if (later !== undefined) {
      // One promise per asynchronous answer (there were three): the handler's own, adopted.
      void Promise.resolve(later).then(
        (r) => this.settleIncoming(responseCommand, sequence, r ?? undefined),
        (err: unknown) => this.settleIncoming(responseCommand, sequence, this.handlerFailed(err)),
      );
    } else {
      // A synchronous answer is still sent after the rest of this read is handled, as before.
      // (A reaction on a settled promise: queueMicrotask costs more in Node, an AsyncResource each.)
      // Cannot reject: answer() catches an encode failure and answers ESME_RX_T_APPN; no .catch here,
      // it would cost a second promise per PDU on the hot path.
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
      void SETTLED.then(() => this.settleIncoming(responseCommand, sequence, reply));
    }
  }

  private settleIncoming(responseCommand: CommandName | undefined, sequence: number, reply: Reply | undefined): void {
    this.unansweredIncoming--;
    if (this.readPausedFor.has('incoming') && this.unansweredIncoming < this.timers.incomingWindow) this.resumeReading('incoming');
    if (responseCommand !== undefined) this.answer(responseCommand, sequence, reply ?? {});
  }

  private handlerFailed(err: unknown): Reply {
    this.log.error({ err, peer: this.remoteAddress }, 'smpp handler failed; answering ESME_RX_T_APPN');
    return { command_status: ESME_RX_T_APPN };
  }

  /**
   * Runs application code. A throw or rejection is logged and becomes ESME_RX_T_APPN, a temporary
   * error, so the peer retries instead of the message being lost.
   */
  private call(fn: () => Promise<Reply | void> | Reply | void): Promise<Reply | undefined> {
    return new Promise<Reply | void>((resolve) => resolve(fn())).then(
      (r) => r ?? undefined,
      (err: unknown) => this.handlerFailed(err),
    );
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, handler: what }, 'smpp handler threw');
    }
  }

  /** Sends the response and returns the command_status it carried. */
  private answer(command: CommandName, sequence: number, reply: Reply): number {
    if (this.stateValue === 'closed') return ESME_RX_T_APPN;
    const messageId = simpleReplyMessageId(reply);
    if (messageId !== undefined) {
      // The common answer (a message_id or nothing, no TLVs): encoded directly. Same octets as below.
      const status = reply.command_status === undefined ? ESME_ROK : reply.command_status;
      let simple: Buffer | undefined;
      try {
        simple = encodeSimpleResponse(command, status, sequence, messageId);
      } catch {
        // A message_id SMPP cannot carry: the path below logs it and answers ESME_RX_T_APPN.
      }
      if (simple !== undefined) {
        this.write(simple);
        return status;
      }
    }
    const { command_status = ESME_ROK, tlvs = [], ...fields } = reply;
    const base = makePdu(command, { sequence_number: sequence, command_status, tlvs } as PduInit<typeof command>);
    // Keep only the fields this response has, so a handler's extra keys never reach the encoder.
    const pdu = { ...base } as Record<string, unknown>;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) pdu[k] = v;
    if ((command === 'submit_sm_resp' || command === 'deliver_sm_resp' || command === 'data_sm_resp') && pdu.message_id === undefined) {
      pdu.message_id = '';
    }
    let encoded: Buffer;
    try {
      encoded = encodePdu(pdu as unknown as Pdu);
    } catch (err) {
      // The handler's answer breaks SMPP's limits (a message_id too long, a TLV too big). The peer
      // still gets exactly one answer, a temporary error, instead of waiting for its timeout.
      this.log.error({ err, command, peer: this.remoteAddress }, 'smpp handler reply cannot be encoded; answering ESME_RX_T_APPN');
      this.sendPdu(makePdu(command, { sequence_number: sequence, command_status: ESME_RX_T_APPN } as PduInit<typeof command>) as Pdu);
      return ESME_RX_T_APPN;
    }
    this.write(encoded);
    return command_status;
  }

  private onTick(): void {
    const now = Date.now();
    for (const [seq, pending] of this.pending) {
      // Insertion order is deadline order (one timeout for all), so stop at the first live one.
      if (pending.deadline > now) break;
      this.takePending(seq);
      pending.reject(new SmppSessionError('response_timeout', `no ${pending.command}_resp within ${this.timers.responseTimeoutMs} ms`));
    }
    if (this.stateValue === 'closed') return;
    const idle = now - this.lastReceivedAt;
    if (this.partialSince !== undefined && now - this.partialSince >= this.timers.frameTimeoutMs) {
      const waited = now - this.partialSince;
      this.log.warn({ peer: this.remoteAddress, buffered: this.reader.bufferedBytes, waitedMs: waited }, 'smpp partial pdu stalled; closing');
      this.close('frame_timeout', `a partial PDU (${this.reader.bufferedBytes} octets) was not completed within ${waited} ms`);
      return;
    }
    if (!this.isBound && this.stateValue !== 'unbinding' && now - this.openedAt >= this.timers.bindTimeoutMs) {
      this.log.warn({ peer: this.remoteAddress, state: this.stateValue }, 'smpp not bound in time; closing');
      this.close('bind_timeout', `not bound within ${this.timers.bindTimeoutMs} ms`);
      return;
    }
    if (idle >= this.timers.silentPeerTimeoutMs) {
      this.log.warn({ peer: this.remoteAddress, idleMs: idle }, 'smpp peer silent; closing');
      this.close('silent_peer', `nothing received for ${idle} ms`);
      return;
    }
    if (idle >= this.timers.enquireLinkIntervalMs && !this.enquireOutstanding && this.isBound) {
      this.enquireOutstanding = true;
      // Cleared however the enquire_link ends (answer, nack, malformed answer, timeout), so one
      // bad answer cannot stop the keep-alive for the rest of the session.
      void this.request('enquire_link', {})
        .catch((err: unknown) => {
          this.log.debug({ err, peer: this.remoteAddress }, 'smpp enquire_link failed');
        })
        .finally(() => {
          this.enquireOutstanding = false;
        });
    }
  }

  private finish(reason: CloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.setState('closed');
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.reject(new SmppSessionError('connection_closed', `connection ended before ${p.command}_resp (${reason.message})`));
    }
    this.releaseWindowWaiters();
    this.peerLog.flush();
    this.log.info({ peer: this.remoteAddress, reason: reason.code, detail: reason.message, failedRequests: pending.length }, 'smpp session closed');
    this.safely('onClose', () => this.handlers.onClose?.(reason, this));
    this.resolveClosed(reason);
  }
}

