/**
 * The SMSC simulator: a real SMPP 3.4 server on loopback, built on Parley's own `SmppServer`,
 * behind `parley smsc-sim`, the demo, the integration tests, staging and the benchmarks.
 *
 * What it does, per bound session:
 * - binds (transmitter, receiver, transceiver), optionally checking system_id/password;
 * - answers submit_sm and data_sm with a message id (hex, decimal or long alphanumeric), or
 *   ESME_RTHROTTLED above a TPS limit (token bucket over arrivals, simulator-wide and/or per bind);
 * - records every submit in an arrival log (a bounded ring buffer);
 * - sends delivery receipts after a delay with a mix of outcomes, to a receiving bind (RX or TRX)
 *   of the same system_id, and keeps each until its deliver_sm_resp says ESME_ROK (see outbox.ts);
 * - sends customer replies on demand (`injectReply`, `POST /mo`) and, as a virtual handset,
 *   answers messages by rules.
 *
 * Speed: nothing per message but the work itself. One timer (timeline.ts) drives every delay,
 * one flush per event-loop turn drives sending, and nothing is logged per message.
 */
import { ParleyError, describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { ESME_RINVBNDSTS, ESME_RINVPASWD, ESME_RINVSYSID, ESME_ROK, ESME_RSYSERR, ESME_RTHROTTLED, commandStatusCode } from '../smpp/command-status.ts';
import { SmppServer } from '../smpp/connection.ts';
import { ESM_CLASS, type PduOf } from '../smpp/pdu.ts';
import type { BindPdu, BindType, IncomingRequest, Reply, SessionHandlers, SessionOptions, SessionState, SmppSession } from '../smpp/session.ts';
import { parseUdh, decodeText, type DefaultAlphabet } from '../smpp/text/index.ts';
import { readTlv } from '../smpp/tlv.ts';
import { ArrivalLog, type Arrival, type ArrivalConcat, type ArrivalStatus } from './arrival-log.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { Handset, Reassembler } from './handset.ts';
import { MessageIdGenerator, formatReceiptId } from './message-ids.ts';
import { FIXED_OPTIONS, describeOptions, resolveSimulatorOptions, type ResolvedSimulatorOptions, type SimulatorOptions } from './options.ts';
import { Outbox, type AttemptOutcome, type OutItem, type Receiver } from './outbox.ts';
import { createRandom, randomBetween, type Random } from './random.ts';
import {
  buildReceiptPdu,
  compileReceiptMix,
  pickReceiptStat,
  receiptTextSnippet,
  type CompiledMix,
  type ReceiptAddresses,
  type ReceiptStat,
} from './receipts.ts';
import { buildReplyPdus, type ReplyRequest } from './replies.ts';
import { Timeline } from './timeline.ts';
import { STATE_VERSION, readState, writeState, type PersistedState } from './state-file.ts';
import { TokenBucket } from '../lib/token-bucket.ts';
import { sleep } from '../lib/timeout.ts';

export type SimulatorState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

export interface BindSummary {
  readonly id: string;
  readonly systemId: string;
  readonly type: BindType;
  readonly remote: string;
  readonly boundAtMs: number;
  readonly submits: number;
  readonly throttled: number;
  readonly receiptsSent: number;
  readonly receiptsAcked: number;
  readonly repliesSent: number;
  readonly repliesAcked: number;
  /** deliver_sm awaiting their response on this bind. */
  readonly inFlight: number;
}

export interface SimulatorStats {
  readonly state: SimulatorState;
  readonly uptimeMs: number;
  readonly binds: {
    readonly current: number;
    readonly transmitter: number;
    readonly receiver: number;
    readonly transceiver: number;
    /** Successful binds since start (or reset). */
    readonly total: number;
    readonly refused: number;
  };
  /** Accepted submit_sm and data_sm. */
  readonly submits: number;
  readonly dataSm: number;
  readonly throttled: number;
  /** Refused by `rejectSubmit`. */
  readonly rejected: number;
  readonly receipts: {
    /** Receipts decided on (ENROUTE included); each is sent until acknowledged. */
    readonly scheduled: number;
    /** deliver_sm written, resends included. */
    readonly sent: number;
    readonly acked: number;
    /** Attempts that failed: refused, unanswered or cut by a closing bind. */
    readonly failedAttempts: number;
    /** Not yet acknowledged (waiting for their delay, queued, in flight or waiting to retry). */
    readonly pending: number;
  };
  readonly replies: {
    /** Replies (whole messages) injected, the handset's included. */
    readonly injected: number;
    /** Of which from the virtual handset. */
    readonly handset: number;
    /** deliver_sm parts created. */
    readonly parts: number;
    readonly sent: number;
    readonly acked: number;
    readonly pending: number;
  };
  /** Seq of the last arrival. */
  readonly arrivals: number;
}

export interface InjectedReply {
  readonly parts: number;
  readonly dataCoding: number;
  /** True once every part is acknowledged with ESME_ROK; false if the simulator dropped it (reset, stop). Never rejects. */
  readonly acked: Promise<boolean>;
}

export interface RestartOptions {
  /** How long the port stays closed; 0. */
  downMs?: number;
  /** Drop connections without unbind, as a crashed SMSC does; false (unbind first). */
  abrupt?: boolean;
}

interface BindRecord extends Receiver {
  readonly type: BindType;
  readonly remote: string;
  readonly boundAtMs: number;
  bucket: TokenBucket | undefined;
  submits: number;
  throttled: number;
  receiptsSent: number;
  receiptsAcked: number;
  repliesSent: number;
  repliesAcked: number;
}

interface ReceiptJob {
  readonly arrival: Arrival;
  readonly stat: ReceiptStat;
  readonly esmClass: number;
  readonly target: string;
}

type Due =
  | { readonly kind: 'receipt'; readonly job: ReceiptJob }
  | { readonly kind: 'retry'; readonly item: OutItem }
  | { readonly kind: 'handset'; readonly reply: ReplyRequest }
  | { readonly kind: 'release'; readonly release: () => void };

type Draft = { -readonly [K in keyof Arrival]: Arrival[K] };

const TYPE_OF_STATE: Partial<Record<SessionState, BindType>> = {
  bound_tx: 'transmitter',
  bound_rx: 'receiver',
  bound_trx: 'transceiver',
};

const ESME_RQUERYFAIL = commandStatusCode('ESME_RQUERYFAIL');

const wallNow = (): number => performance.timeOrigin + performance.now();

interface Content {
  text: string;
  concat: ArrivalConcat | undefined;
  payload: boolean;
}

/** Text, concatenation and payload use of a submit_sm or data_sm. */
function readContent(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'>, alphabet: DefaultAlphabet): Content {
  let body: Buffer = pdu.command === 'submit_sm' ? pdu.short_message : Buffer.alloc(0);
  let payload = false;
  let concat: ArrivalConcat | undefined;
  const hasTlvs = pdu.tlvs.length > 0;
  if (hasTlvs && body.length === 0) {
    const p = readTlv(pdu.tlvs, 'message_payload');
    if (p) {
      body = p;
      payload = true;
    }
  }
  if ((pdu.esm_class & ESM_CLASS.UDHI) !== 0) {
    const udh = parseUdh(body);
    if (udh.ok) {
      body = udh.payload;
      if (udh.concat) {
        const c = udh.concat;
        concat = { scheme: c.referenceBits === 8 ? 'udh8' : 'udh16', reference: c.reference, total: c.total, seq: c.seq };
      }
    }
  }
  if (!concat && hasTlvs) {
    const reference = readTlv(pdu.tlvs, 'sar_msg_ref_num');
    const total = readTlv(pdu.tlvs, 'sar_total_segments');
    const seq = readTlv(pdu.tlvs, 'sar_segment_seqnum');
    if (reference !== undefined && total !== undefined && seq !== undefined) concat = { scheme: 'sar', reference, total, seq };
  }
  return { text: flatten(decodeText(body, pdu.data_coding, alphabet).text), concat, payload };
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- a sink: written so flatten's ToNumber is not optimised away
let flattenSink = 0;

/**
 * The text layer builds strings a character at a time, which V8 keeps as a rope of one object per
 * character. An arrival log of 10,000 such texts made every submit cost ~9 us more in GC than a
 * flat string does. ToNumber flattens a string in place (the trick pino's flatstr uses); the
 * result goes to a sink so the call cannot be optimised away.
 */
function flatten(text: string): string {
  flattenSink ^= Number(text) | 0;
  return text;
}

export class Simulator {
  private opts: ResolvedSimulatorOptions;
  private input: SimulatorOptions;
  private stateValue: SimulatorState = 'starting';
  private server: SmppServer | undefined;
  private control: ControlServer | undefined;
  private portValue = 0;
  private readonly startedAt = performance.now();
  private readonly log: Logger;
  private readonly random: Random;
  private readonly ids: MessageIdGenerator;
  private readonly arrivalLog: ArrivalLog;
  private readonly timeline: Timeline<Due>;
  private readonly outbox: Outbox;
  private readonly reassembler = new Reassembler();
  private readonly sessionOptions: Omit<SessionOptions, 'mode'>;
  private readonly bindsBySession = new Map<SmppSession, BindRecord>();
  private readonly bindSystemIds = new WeakMap<SmppSession, string>();
  private mix: CompiledMix;
  private handset: Handset | undefined;
  private globalBucket: TokenBucket | undefined;
  private bindCounter = 0;
  /** Receipts waiting on the timeline for their delay. */
  private receiptJobsWaiting = 0;
  private replyReference: number;
  private stopping: Promise<void> | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: () => void;
  /** Resolves once the simulator has stopped. */
  readonly closed: Promise<void>;

  private counters = Simulator.zeroCounters();

  constructor(options: SimulatorOptions = {}) {
    this.input = { ...options };
    this.opts = resolveSimulatorOptions(options);
    this.log = this.opts.logger.child({ component: 'smsc-sim' });
    this.random = createRandom(this.opts.seed);
    this.ids = new MessageIdGenerator(this.random);
    this.replyReference = Math.floor(this.random() * 0xffff);
    this.arrivalLog = new ArrivalLog(this.opts.keep);
    this.timeline = new Timeline<Due>(this.opts.tickMs, (due) => this.onDue(due));
    this.outbox = new Outbox({
      retryLater: (item) => this.timeline.schedule(performance.now() + this.opts.receiptRetryMs, { kind: 'retry', item }),
      onSent: (item, receiver) => this.onSent(item, receiver as BindRecord),
      onOutcome: (item, receiver, outcome, detail) => this.onOutcome(item, receiver as BindRecord, outcome, detail),
    });
    this.mix = compileReceiptMix(this.opts.receiptMix);
    this.handset = this.opts.handset === false ? undefined : new Handset(this.opts.handset);
    this.globalBucket = this.makeBucket(this.opts.tps, this.opts.tpsBurst);
    const handlers: SessionHandlers = {
      onBind: (pdu, session) => this.onBind(pdu, session),
      onRequest: (pdu, session) => this.onRequest(pdu, session),
      onStateChange: (state, previous, session) => this.onSessionState(state, previous, session),
    };
    this.sessionOptions = { timers: this.sessionTimers(), handlers, logger: this.log };
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  private static zeroCounters() {
    return {
      bindsTotal: 0,
      bindsRefused: 0,
      submits: 0,
      dataSm: 0,
      throttled: 0,
      rejected: 0,
      receiptsScheduled: 0,
      receiptsSent: 0,
      receiptsAcked: 0,
      failedAttempts: 0,
      repliesInjected: 0,
      repliesHandset: 0,
      replyParts: 0,
      repliesSent: 0,
      repliesAcked: 0,
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** Listens for SMPP (and the control endpoint unless `controlPort: false`). */
  async start(): Promise<void> {
    if (this.stateValue !== 'starting') throw new ParleyError('simulator_state', `cannot start a simulator that is ${this.stateValue}`);
    try {
      // The store first: receipts kept from before a restart go out once ESMEs bind again.
      if (this.opts.stateFile) this.loadState(this.opts.stateFile);
      this.server = this.createServer();
      const address = await this.server.listen(this.opts.port, this.opts.host);
      this.portValue = address.port;
      if (this.opts.controlPort !== false) {
        this.control = await startControlServer(this, this.opts.controlHost, this.opts.controlPort, this.log);
      }
    } catch (err) {
      await this.stop();
      throw new ParleyError('simulator_listen', `smsc simulator cannot listen: ${describeError(err)}`, { cause: err });
    }
    if (this.opts.stateFile && this.opts.stateSaveMs > 0) {
      this.stateTimer = setInterval(() => this.saveStateLogged(), this.opts.stateSaveMs);
      this.stateTimer.unref();
    }
    this.setState('running');
  }

  /**
   * Writes the store to `stateFile` now (it is also written every `stateSaveMs` and on stop):
   * receipts not yet due, deliver_sm not yet acknowledged, handset replies not yet sent, the id counter.
   */
  saveState(): void {
    const file = this.opts.stateFile;
    if (!file) throw new ParleyError('simulator_state_file', 'the simulator has no stateFile to save to');
    const toEpoch = Date.now() - performance.now();
    const receipts: { dueAtMs: number; job: ReceiptJob }[] = [];
    const handset: { dueAtMs: number; reply: ReplyRequest }[] = [];
    const deliveries: { kind: 'receipt' | 'reply'; target: string | undefined; fields: OutItem['fields'] }[] = [];
    for (const { atMs, item } of this.timeline.entries()) {
      if (item.kind === 'receipt') receipts.push({ dueAtMs: atMs + toEpoch, job: item.job });
      else if (item.kind === 'handset') handset.push({ dueAtMs: atMs + toEpoch, reply: item.reply });
      else if (item.kind === 'retry' && !item.item.settled) deliveries.push({ kind: item.item.kind, target: item.item.target, fields: item.item.fields });
    }
    for (const item of this.outbox.unsettledItems()) deliveries.push({ kind: item.kind, target: item.target, fields: item.fields });
    const state: PersistedState<ReceiptJob, ReplyRequest, OutItem['fields']> = { version: STATE_VERSION, savedAtMs: Date.now(), ids: this.ids.state, receipts, handset, deliveries };
    writeState(file, state);
  }

  private saveStateLogged(): void {
    try {
      this.saveState();
    } catch (err) {
      this.log.error({ err, file: this.opts.stateFile }, 'smsc simulator cannot write its state file');
    }
  }

  private loadState(file: string): void {
    const state = readState<ReceiptJob, ReplyRequest, OutItem['fields']>(file);
    if (!state) return;
    this.ids.restore(state.ids);
    const fromEpoch = performance.now() - Date.now();
    for (const r of state.receipts) {
      this.receiptJobsWaiting++;
      this.timeline.schedule(r.dueAtMs + fromEpoch, { kind: 'receipt', job: r.job });
    }
    for (const h of state.handset) this.timeline.schedule(h.dueAtMs + fromEpoch, { kind: 'handset', reply: h.reply });
    for (const d of state.deliveries) this.outbox.add(d.kind, d.target, d.fields);
    this.log.info(
      { file, receipts: state.receipts.length, deliveries: state.deliveries.length, handset: state.handset.length, savedAgoMs: Date.now() - state.savedAtMs },
      'smsc simulator state loaded',
    );
  }

  get state(): SimulatorState {
    return this.stateValue;
  }

  get host(): string {
    return this.opts.host;
  }

  /** The SMPP port (the real one when started with port 0). */
  get port(): number {
    return this.portValue;
  }

  /** The control endpoint's port, or undefined when it is off. */
  get controlPort(): number | undefined {
    return this.control?.port;
  }

  get options(): ResolvedSimulatorOptions {
    return this.opts;
  }

  /**
   * Closes every SMPP connection and listens again on the same port: an SMSC restarted
   * mid-stream. Receipts and replies not yet acknowledged survive and go out after the ESMEs
   * bind again; ids keep counting.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.stateValue !== 'running') throw new ParleyError('simulator_state', `cannot restart a simulator that is ${this.stateValue}`);
    this.setState('restarting');
    const old = this.server;
    if (old) {
      if (options.abrupt) for (const s of old.sessions) s.close('local', 'smsc simulator crashed');
      await old.close(500);
    }
    if (options.downMs) await sleep(options.downMs);
    if (this.stopping) return;
    this.server = this.createServer();
    try {
      await this.server.listen(this.portValue, this.opts.host);
    } catch (err) {
      // Someone took the port while it was down: nothing to come back to.
      await this.stop();
      throw new ParleyError('simulator_listen', `smsc simulator cannot listen again on ${this.portValue}: ${describeError(err)}`, { cause: err });
    }
    this.setState('running');
  }

  /** Unbinds everyone and stops listening. Idempotent: a second call returns the same promise. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // A start that failed (an unreadable state file among others) must not overwrite the file.
    const started = this.stateValue !== 'starting';
    this.setState('stopping');
    // Every step runs even when one fails; a failure is logged, never thrown from stop().
    const run = async (what: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err, step: what }, 'smsc simulator stop step failed');
      }
    };
    clearInterval(this.stateTimer);
    // The store is written before anything is dropped: a restart picks up where this left off.
    // (A deliver_sm acknowledged in the last moments goes again after the restart: at least once.)
    if (this.opts.stateFile && started) await run('state', () => this.saveState());
    // Held responses go out first so that sessions can answer before they unbind.
    await run('timeline', () => this.releaseScheduled(this.timeline.stop()));
    await run('outbox', () => this.outbox.close());
    await run('smpp', () => this.server?.close(500));
    await run('control', () => this.control?.close());
    this.setState('stopped');
    this.resolveClosed();
  }

  private setState(next: SimulatorState): void {
    const previous = this.stateValue;
    if (previous === next) return;
    this.stateValue = next;
    this.log.info({ from: previous, to: next, port: this.portValue, controlPort: this.control?.port }, 'smsc simulator state');
  }

  private createServer(): SmppServer {
    return new SmppServer({ session: this.sessionOptions });
  }

  private sessionTimers(): SessionOptions['timers'] {
    return {
      windowSize: this.opts.window,
      responseTimeoutMs: this.opts.responseTimeoutMs,
      enquireLinkIntervalMs: this.opts.enquireLinkIntervalMs,
      silentPeerTimeoutMs: Math.max(45_000, this.opts.enquireLinkIntervalMs + 15_000),
    };
  }

  // ---------------------------------------------------------------- behaviour changes

  /**
   * Changes behaviour mid-run (TPS, receipt mix and form, id format, handset...). Validated like
   * the start options; host, ports, tickMs, seed and logger are fixed. window, responseTimeoutMs
   * and enquireLinkIntervalMs apply to sessions bound afterwards.
   */
  setOptions(partial: SimulatorOptions): void {
    for (const key of FIXED_OPTIONS) {
      if (!(key in partial) || partial[key] === undefined) continue;
      const same = partial[key] === this.opts[key] || (key === 'port' && partial.port === this.portValue) || (key === 'controlPort' && partial.controlPort === this.controlPort);
      if (!same) throw new ParleyError('invalid_simulator_option', `simulator option ${key} cannot change while the simulator runs`);
    }
    const input = { ...this.input, ...partial };
    const next = resolveSimulatorOptions(input);
    this.input = input;
    const previous = this.opts;
    this.opts = next;
    const now = performance.now();
    this.mix = compileReceiptMix(next.receiptMix);
    this.handset = next.handset === false ? undefined : new Handset(next.handset);
    if (next.tps !== previous.tps || next.tpsBurst !== previous.tpsBurst) {
      if (next.tps > 0 && this.globalBucket) this.globalBucket.reconfigure(next.tps, next.tpsBurst, now);
      else this.globalBucket = this.makeBucket(next.tps, next.tpsBurst);
    }
    if (next.tpsPerBind !== previous.tpsPerBind || next.tpsPerBindBurst !== previous.tpsPerBindBurst) {
      for (const bind of this.bindsBySession.values()) {
        if (next.tpsPerBind > 0 && bind.bucket) bind.bucket.reconfigure(next.tpsPerBind, next.tpsPerBindBurst, now);
        else bind.bucket = this.makeBucket(next.tpsPerBind, next.tpsPerBindBurst);
      }
    }
    this.arrivalLog.resize(next.keep);
    this.sessionOptions.timers = this.sessionTimers();
  }

  /**
   * Forgets arrivals, counters, throttle state, partial messages and every receipt or reply not
   * yet acknowledged (their `acked` resolves false). Binds stay up; held responses are sent.
   */
  reset(): void {
    this.releaseScheduled(this.timeline.clear());
    this.outbox.discardAll();
    this.arrivalLog.clear();
    this.reassembler.clear();
    this.counters = Simulator.zeroCounters();
    const now = performance.now();
    this.globalBucket?.refillFully(now);
    for (const bind of this.bindsBySession.values()) {
      bind.bucket?.refillFully(now);
      bind.submits = bind.throttled = bind.receiptsSent = bind.receiptsAcked = bind.repliesSent = bind.repliesAcked = 0;
    }
  }

  private makeBucket(tps: number, burst: number): TokenBucket | undefined {
    return tps > 0 ? new TokenBucket(tps, burst, performance.now()) : undefined;
  }

  // ---------------------------------------------------------------- queries

  /** The kept arrivals, oldest first (a copy). */
  get arrivals(): Arrival[] {
    return this.arrivalLog.since(0);
  }

  arrivalsSince(since = 0, limit = Number.POSITIVE_INFINITY): { arrivals: Arrival[]; last: number } {
    return { arrivals: this.arrivalLog.since(since, limit), last: this.arrivalLog.last };
  }

  get binds(): BindSummary[] {
    return [...this.bindsBySession.values()].map((b) => ({
      id: b.id,
      systemId: b.systemId,
      type: b.type,
      remote: b.remote,
      boundAtMs: b.boundAtMs,
      submits: b.submits,
      throttled: b.throttled,
      receiptsSent: b.receiptsSent,
      receiptsAcked: b.receiptsAcked,
      repliesSent: b.repliesSent,
      repliesAcked: b.repliesAcked,
      inFlight: b.session.inFlight,
    }));
  }

  get stats(): SimulatorStats {
    const c = this.counters;
    let transmitter = 0;
    let receiver = 0;
    let transceiver = 0;
    for (const b of this.bindsBySession.values()) {
      if (b.type === 'transmitter') transmitter++;
      else if (b.type === 'receiver') receiver++;
      else transceiver++;
    }
    return {
      state: this.stateValue,
      uptimeMs: Math.round(performance.now() - this.startedAt),
      binds: { current: this.bindsBySession.size, transmitter, receiver, transceiver, total: c.bindsTotal, refused: c.bindsRefused },
      submits: c.submits,
      dataSm: c.dataSm,
      throttled: c.throttled,
      rejected: c.rejected,
      receipts: {
        scheduled: c.receiptsScheduled,
        sent: c.receiptsSent,
        acked: c.receiptsAcked,
        failedAttempts: c.failedAttempts,
        pending: this.receiptJobsWaiting + this.outbox.pending('receipt'),
      },
      replies: {
        injected: c.repliesInjected,
        handset: c.repliesHandset,
        parts: c.replyParts,
        sent: c.repliesSent,
        acked: c.repliesAcked,
        pending: this.outbox.pending('reply'),
      },
      arrivals: this.arrivalLog.last,
    };
  }

  /** The options as JSON can carry them (for the control endpoint). */
  describeOptions(): Record<string, unknown> {
    return { ...describeOptions(this.opts), port: this.portValue, controlPort: this.control?.port ?? false };
  }

  // ---------------------------------------------------------------- customer replies

  /**
   * Sends a customer reply (MO) as deliver_sm, split and concatenated when long, to a receiving
   * bind (of `systemId` when given; round-robin), queued until one is bound and kept until
   * acknowledged. Throws ParleyError('invalid_reply') on a reply that cannot be encoded.
   */
  injectReply(request: ReplyRequest): InjectedReply {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') {
      throw new ParleyError('simulator_state', `cannot inject a reply into a simulator that is ${this.stateValue}`);
    }
    const built = buildReplyPdus(request, {
      defaultAlphabet: this.opts.defaultAlphabet,
      concatenation: request.concatenation ?? this.opts.replyConcatenation,
      reference: this.replyReference,
      random: this.random,
    });
    this.replyReference = (this.replyReference + 1) & 0xffff;
    this.counters.repliesInjected++;
    this.counters.replyParts += built.parts.length;
    let remaining = built.parts.length;
    let allAcked = true;
    let resolveAcked!: (acked: boolean) => void;
    const acked = new Promise<boolean>((resolve) => {
      resolveAcked = resolve;
    });
    const settle = (ok: boolean): void => {
      if (!ok) allAcked = false;
      if (--remaining === 0) resolveAcked(allAcked);
    };
    const target = request.systemId === undefined || request.systemId === '' ? undefined : request.systemId;
    for (const fields of built.parts) this.outbox.add('reply', target, fields, settle);
    return { parts: built.parts.length, dataCoding: built.dataCoding, acked };
  }

  // ---------------------------------------------------------------- session handlers

  private onBind(pdu: BindPdu, session: SmppSession): Reply {
    if (this.stateValue !== 'running') {
      this.counters.bindsRefused++;
      return { command_status: ESME_RSYSERR, system_id: this.opts.systemId };
    }
    const credentials = this.opts.credentials;
    if (credentials.length > 0) {
      const known = credentials.filter((c) => c.systemId === pdu.system_id);
      let status = ESME_ROK;
      if (known.length === 0) status = ESME_RINVSYSID;
      else if (!known.some((c) => c.password === pdu.password)) status = ESME_RINVPASWD;
      if (status !== ESME_ROK) {
        this.counters.bindsRefused++;
        this.log.info({ systemId: pdu.system_id, peer: session.remoteAddress, command: pdu.command, status }, 'smsc simulator refused a bind');
        return { command_status: status, system_id: this.opts.systemId };
      }
    }
    this.bindSystemIds.set(session, pdu.system_id);
    return { command_status: ESME_ROK, system_id: this.opts.systemId };
  }

  private onSessionState(state: SessionState, previous: SessionState, session: SmppSession): void {
    const type = TYPE_OF_STATE[state];
    if (type && !this.bindsBySession.has(session)) {
      const bind: BindRecord = {
        id: `b${++this.bindCounter}`,
        systemId: this.bindSystemIds.get(session) ?? '',
        session,
        type,
        remote: session.remoteAddress,
        boundAtMs: wallNow(),
        bucket: this.makeBucket(this.opts.tpsPerBind, this.opts.tpsPerBindBurst),
        submits: 0,
        throttled: 0,
        receiptsSent: 0,
        receiptsAcked: 0,
        repliesSent: 0,
        repliesAcked: 0,
      };
      this.bindsBySession.set(session, bind);
      this.counters.bindsTotal++;
      if (type !== 'transmitter') this.outbox.addReceiver(bind);
      this.log.info({ bind: bind.id, systemId: bind.systemId, type, peer: bind.remote }, 'smsc simulator bound');
      return;
    }
    if (TYPE_OF_STATE[previous] && !type) {
      const bind = this.bindsBySession.get(session);
      if (!bind) return;
      this.bindsBySession.delete(session);
      this.outbox.removeReceiver(bind);
      this.log.info(
        { bind: bind.id, systemId: bind.systemId, type: bind.type, submits: bind.submits, receiptsAcked: bind.receiptsAcked, state },
        'smsc simulator bind ended',
      );
    }
  }

  private onRequest(pdu: IncomingRequest, session: SmppSession): Reply | Promise<Reply> {
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm':
        return this.onSubmit(pdu, session);
      case 'query_sm':
        return { command_status: ESME_RQUERYFAIL, message_id: pdu.message_id };
      default:
        return {};
    }
  }

  private onSubmit(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'>, session: SmppSession): Reply | Promise<Reply> {
    const bind = this.bindsBySession.get(session);
    if (!bind) return { command_status: ESME_RINVBNDSTS };
    const o = this.opts;
    // Stamped when its read came off the socket, not after the PDUs ahead of it were handled.
    const now = session.lastReadAt;
    const content = readContent(pdu, o.defaultAlphabet);

    let commandStatus = ESME_ROK;
    let status: ArrivalStatus = 'accepted';
    const g = this.globalBucket;
    const b = bind.bucket;
    if ((g && !g.available(now)) || (b && !b.available(now))) {
      commandStatus = ESME_RTHROTTLED;
      status = 'throttled';
    } else {
      g?.take();
      b?.take();
    }
    const arrival: Draft = {
      seq: this.arrivalLog.nextSeq(),
      atMs: performance.timeOrigin + now,
      bindId: bind.id,
      systemId: bind.systemId,
      command: pdu.command,
      status,
      commandStatus,
      messageId: undefined,
      source: pdu.source_addr,
      sourceTon: pdu.source_addr_ton,
      sourceNpi: pdu.source_addr_npi,
      destination: pdu.destination_addr,
      destTon: pdu.dest_addr_ton,
      destNpi: pdu.dest_addr_npi,
      dataCoding: pdu.data_coding,
      esmClass: pdu.esm_class,
      registeredDelivery: pdu.registered_delivery,
      concat: content.concat,
      payload: content.payload,
      text: content.text,
    };
    if (status === 'accepted' && o.rejectSubmit) {
      const forced = o.rejectSubmit(arrival);
      if (forced !== undefined && forced !== ESME_ROK) {
        arrival.commandStatus = forced;
        arrival.status = 'rejected';
      }
    }
    if (arrival.status === 'throttled') {
      this.counters.throttled++;
      bind.throttled++;
      this.arrivalLog.add(arrival);
      return { command_status: ESME_RTHROTTLED };
    }
    if (arrival.status === 'rejected') {
      this.counters.rejected++;
      this.arrivalLog.add(arrival);
      return { command_status: arrival.commandStatus };
    }
    const messageId = this.ids.next(o.idFormat);
    arrival.messageId = messageId;
    this.arrivalLog.add(arrival);
    this.counters.submits++;
    if (pdu.command === 'data_sm') this.counters.dataSm++;
    bind.submits++;

    const waits: Promise<void>[] = [];
    const wanted = arrival.registeredDelivery & 0x03;
    if (wanted !== 0 || (arrival.registeredDelivery & 0x10) !== 0) {
      const wait = this.planReceipts(arrival, bind, wanted, now);
      if (wait) waits.push(wait);
    }
    if (this.handset) this.answerAsHandset(arrival, bind, now);
    if (o.responseDelayMs > 0 && this.stateValue !== 'stopping') {
      waits.push(new Promise((release) => this.timeline.schedule(now + o.responseDelayMs, { kind: 'release', release })));
    }
    const reply: Reply = { message_id: messageId };
    if (waits.length === 0) return reply;
    return Promise.all(waits).then(() => reply);
  }

  /** Schedules the receipts a submit asked for; returns what the response must wait for. */
  private planReceipts(arrival: Arrival, bind: BindRecord, wanted: number, now: number): Promise<void> | undefined {
    const o = this.opts;
    let stat: ReceiptStat;
    try {
      stat = o.pickReceiptStat?.(arrival) ?? pickReceiptStat(this.mix, this.random);
    } catch (err) {
      this.log.error({ err }, 'smsc simulator pickReceiptStat threw; using the mix');
      stat = pickReceiptStat(this.mix, this.random);
    }
    // registered_delivery 2: a receipt on failure only.
    const finalWanted = wanted === 1 || wanted === 3 || (wanted === 2 && stat !== 'DELIVRD');
    const intermediateWanted = o.receiptIntermediate && (wanted === 1 || wanted === 3 || (arrival.registeredDelivery & 0x10) !== 0);
    const target = bind.systemId;
    if (o.receiptBeforeResponse) {
      if (!finalWanted) return undefined;
      this.counters.receiptsScheduled++;
      const fields = this.receiptPdu({ arrival, stat, esmClass: ESM_CLASS.TYPE_DELIVERY_RECEIPT, target });
      if (!fields) return undefined;
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const sent = this.outbox.addNow('receipt', target, fields, () => release());
      if (!sent) return undefined;
      this.timeline.schedule(now + o.receiptBeforeResponseMaxWaitMs, { kind: 'release', release });
      return released;
    }
    const delayMs = randomBetween(this.random, o.receiptDelayMs.minMs, o.receiptDelayMs.maxMs);
    if (intermediateWanted) {
      this.counters.receiptsScheduled++;
      this.receiptJobsWaiting++;
      this.timeline.schedule(now + delayMs / 2, { kind: 'receipt', job: { arrival, stat: 'ENROUTE', esmClass: o.intermediateEsmClass, target } });
    }
    if (finalWanted) {
      this.counters.receiptsScheduled++;
      this.receiptJobsWaiting++;
      this.timeline.schedule(now + delayMs, { kind: 'receipt', job: { arrival, stat, esmClass: ESM_CLASS.TYPE_DELIVERY_RECEIPT, target } });
    }
    return undefined;
  }

  private receiptPdu(job: ReceiptJob): ReturnType<typeof buildReceiptPdu> | undefined {
    const a = job.arrival;
    const o = this.opts;
    const addresses: ReceiptAddresses = {
      source: a.destination,
      sourceTon: a.destTon,
      sourceNpi: a.destNpi,
      destination: a.source,
      destTon: a.sourceTon,
      destNpi: a.sourceNpi,
    };
    try {
      return buildReceiptPdu(
        {
          receiptId: formatReceiptId(a.messageId ?? '', o.idFormat, o.receiptIdFormat),
          stat: job.stat,
          submitAtMs: a.atMs,
          doneAtMs: wallNow(),
          snippet: receiptTextSnippet(a.text),
        },
        addresses,
        o.receiptForm,
        job.esmClass,
      );
    } catch (err) {
      this.log.error({ err, messageId: a.messageId }, 'smsc simulator cannot build a receipt');
      return undefined;
    }
  }

  private answerAsHandset(arrival: Arrival, bind: BindRecord, now: number): void {
    const handset = this.handset;
    if (!handset) return;
    const whole = this.reassembler.add(`${bind.systemId}|${arrival.source}|${arrival.destination}`, arrival.concat, arrival.text, now);
    if (whole === undefined) return;
    try {
      const answer = handset.answer({ text: whole, from: arrival.source, to: arrival.destination, systemId: bind.systemId });
      if (!answer) return;
      const handsetOptions = this.opts.handset === false ? undefined : this.opts.handset;
      const reply: ReplyRequest = {
        from: arrival.destination,
        to: arrival.source,
        text: answer.text,
        concatenation: handsetOptions?.concatenation ?? this.opts.replyConcatenation,
        systemId: bind.systemId,
      };
      this.timeline.schedule(now + answer.delayMs, { kind: 'handset', reply });
    } catch (err) {
      this.log.error({ err }, 'smsc simulator handset rule failed');
    }
  }

  // ---------------------------------------------------------------- timeline and outbox

  private onDue(due: Due[]): void {
    for (const d of due) {
      switch (d.kind) {
        case 'receipt': {
          this.receiptJobsWaiting--;
          const fields = this.receiptPdu(d.job);
          if (fields) this.outbox.add('receipt', d.job.target, fields);
          break;
        }
        case 'retry':
          this.outbox.requeue(d.item);
          break;
        case 'handset':
          try {
            this.injectReply(d.reply);
            this.counters.repliesHandset++;
          } catch (err) {
            this.log.warn({ err, to: d.reply.to }, 'smsc simulator handset reply not sent');
          }
          break;
        case 'release':
          d.release();
          break;
      }
    }
    this.outbox.flush();
  }

  /** What a cleared timeline held: responses are released, receipts and retries dropped. */
  private releaseScheduled(items: Due[]): void {
    for (const d of items) {
      if (d.kind === 'release') d.release();
      else if (d.kind === 'retry') this.outbox.discard(d.item);
      else if (d.kind === 'receipt') this.receiptJobsWaiting--;
    }
  }

  private onSent(item: OutItem, bind: BindRecord): void {
    if (item.kind === 'receipt') {
      this.counters.receiptsSent++;
      bind.receiptsSent++;
    } else {
      this.counters.repliesSent++;
      bind.repliesSent++;
    }
  }

  private onOutcome(item: OutItem, bind: BindRecord, outcome: AttemptOutcome, detail: string): void {
    if (outcome !== 'acked') {
      this.counters.failedAttempts++;
      // Rare and final (an address too long for deliver_sm): worth a line, unlike a retry.
      if (outcome === 'unencodable') this.log.warn({ bind: bind.id, kind: item.kind, detail }, 'smsc simulator dropped an unencodable deliver_sm');
      return;
    }
    if (item.kind === 'receipt') {
      this.counters.receiptsAcked++;
      bind.receiptsAcked++;
    } else {
      this.counters.repliesAcked++;
      bind.repliesAcked++;
    }
  }
}

/** Starts a simulator and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new Simulator(options);
  await sim.start();
  return sim;
}
