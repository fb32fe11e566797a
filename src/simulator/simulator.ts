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
import { SmppServer } from '../smpp/connection.ts';
import type { SessionHandlers, SessionOptions } from '../smpp/session.ts';
import { ArrivalLog, type Arrival } from './arrival-log.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { CustomerReplies } from './customer-replies.ts';
import { MessageIdGenerator } from './message-ids.ts';
import { FIXED_OPTIONS, describeOptions, sessionTimersOf, resolveSimulatorOptions, type ResolvedSimulatorOptions, type SimulatorOptions } from './options.ts';
import { Outbox, type OutItem } from './outbox.ts';
import { createRandom } from './random.ts';
import { ReceiptScheduler } from './receipt-scheduler.ts';
import type { ReplyRequest } from './replies.ts';
import { SimulatorBinds } from './simulator-binds.ts';
import { countOutcome, countSent, summariseStats } from './simulator-stats.ts';
import {
  zeroCounters,
  type BindRecord,
  type BindSummary,
  type Due,
  type InjectedReply,
  type ReceiptJob,
  type RestartOptions,
  type SimulatorCore,
  type SimulatorState,
  type SimulatorStats,
} from './simulator-types.ts';
import { readState, writeState } from './state-file.ts';
import { restoreState, snapshotState } from './state-snapshot.ts';
import { SubmitAcceptance } from './submit-acceptance.ts';
import { Timeline } from './timeline.ts';
import { sleep } from '../lib/timeout.ts';

export type { BindSummary, InjectedReply, RestartOptions, SimulatorState, SimulatorStats } from './simulator-types.ts';

export class Simulator {
  private input: SimulatorOptions;
  private stateValue: SimulatorState = 'starting';
  private server: SmppServer | undefined;
  private control: ControlServer | undefined;
  private portValue = 0;
  private readonly startedAt = performance.now();
  private readonly core: SimulatorCore;
  private readonly ids: MessageIdGenerator;
  private readonly arrivalLog: ArrivalLog;
  private readonly timeline: Timeline<Due>;
  private readonly outbox: Outbox;
  private readonly binds_: SimulatorBinds;
  private readonly receipts: ReceiptScheduler;
  private readonly replies: CustomerReplies;
  private readonly sessionOptions: Omit<SessionOptions, 'mode'>;
  private readonly submits: SubmitAcceptance;
  private stopping: Promise<void> | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: () => void;
  /** Resolves once the simulator has stopped. */
  readonly closed: Promise<void>;

  constructor(options: SimulatorOptions = {}) {
    this.input = { ...options };
    const opts = resolveSimulatorOptions(options);
    const log = opts.logger.child({ component: 'smsc-sim' });
    const random = createRandom(opts.seed);
    this.ids = new MessageIdGenerator(random);
    this.arrivalLog = new ArrivalLog(opts.keep);
    this.timeline = new Timeline<Due>(opts.tickMs, (due) => this.onDue(due));
    this.outbox = new Outbox({
      retryLater: (item) => this.timeline.schedule(performance.now() + this.opts.receiptRetryMs, { kind: 'retry', item }),
      onSent: (item, receiver) => countSent(this.core.counters, item, receiver as BindRecord),
      onOutcome: (item, receiver, outcome, detail) => countOutcome(this.core.counters, this.log, item, receiver as BindRecord, outcome, detail),
    });
    this.core = { opts, counters: zeroCounters(), log, random, timeline: this.timeline, outbox: this.outbox };
    // After the id generator: both draw their start from the seeded random, in this order.
    this.replies = new CustomerReplies(this.core);
    this.receipts = new ReceiptScheduler(this.core);
    this.binds_ = new SimulatorBinds(this.core, () => this.stateValue === 'running');
    this.submits = new SubmitAcceptance(this.core, {
      binds: this.binds_,
      arrivalLog: this.arrivalLog,
      ids: this.ids,
      receipts: this.receipts,
      replies: this.replies,
      isStopping: () => this.stateValue === 'stopping',
    });
    const handlers: SessionHandlers = {
      onBind: (pdu, session) => this.binds_.answerBind(pdu, session),
      onRequest: (pdu, session) => this.submits.answer(pdu, session),
      onStateChange: (state, previous, session) => this.binds_.onSessionState(state, previous, session),
    };
    this.sessionOptions = { timers: this.sessionTimers(), handlers, logger: log };
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  private get opts(): ResolvedSimulatorOptions {
    return this.core.opts;
  }

  private get log(): SimulatorCore['log'] {
    return this.core.log;
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
    writeState(file, snapshotState(this.timeline, this.outbox, this.ids));
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
    restoreState(state, { ids: this.ids, receipts: this.receipts, timeline: this.timeline, outbox: this.outbox });
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
    return sessionTimersOf(this.opts);
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
    this.core.opts = next;
    const now = performance.now();
    this.receipts.recompileMix();
    this.replies.configureHandset();
    this.submits.retune(previous, now);
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
    this.replies.clear();
    this.core.counters = zeroCounters();
    const now = performance.now();
    this.submits.refill(now);
    this.binds_.reset(now);
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
    return this.binds_.summaries();
  }

  get stats(): SimulatorStats {
    return summariseStats(this.core.counters, {
      state: this.stateValue,
      uptimeMs: Math.round(performance.now() - this.startedAt),
      binds: this.binds_,
      receiptsWaiting: this.receipts.waiting,
      outbox: this.outbox,
      lastArrival: this.arrivalLog.last,
    });
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
    return this.replies.inject(request);
  }

  // ---------------------------------------------------------------- timeline and outbox

  private onDue(due: Due[]): void {
    for (const d of due) {
      switch (d.kind) {
        case 'receipt':
          this.receipts.send(d.job);
          break;
        case 'retry':
          this.outbox.requeue(d.item);
          break;
        case 'handset':
          try {
            this.injectReply(d.reply);
            this.core.counters.repliesHandset++;
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
      else if (d.kind === 'receipt') this.receipts.drop();
    }
  }
}

/** Starts a simulator and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new Simulator(options);
  await sim.start();
  return sim;
}
