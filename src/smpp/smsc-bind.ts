/**
 * One persistent bind to an SMSC: connect, bind, stay bound, and when the link goes, reconnect
 * with capped exponential backoff and jitter on a fresh socket and session. This is the boundary
 * where SMPP's PDUs become Parley's types: callers submit a `SubmitRequest` and receive
 * `InboundSm` values, never PDUs.
 */
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { connectSession } from './connection.ts';
import { SmppSession, SmppSessionError, type BindType, type IncomingRequest, type Reply } from './session.ts';
import { ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RINVSYSID, ESME_ROK, ESME_RX_T_APPN, commandStatusName } from './command-status.ts';
import { ESM_CLASS, shortMessageFields, type PduInit } from './pdu.ts';
import { makeTlv, type Tlv } from './tlv.ts';
import { Backoff } from '../lib/backoff.ts';
import { sleep } from '../lib/timeout.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import type { BindState, SmscBindOptions, SubmitRequest, SubmitResult } from './bind-types.ts';
import { readInboundSm } from './inbound-sm.ts';

export { BIND_STATES } from './bind-types.ts';
export type { BindState, InboundAnswer, InboundSm, SmppAddress, SmscBindOptions, SubmitRequest, SubmitResult } from './bind-types.ts';

/** Refusals that no quick retry fixes: retried at the backoff cap, logged as errors. */
const CREDENTIAL_REFUSALS = new Set([ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL]);

/** SMPP relative time (SMPP 3.4 7.1.1): YYMMDDhhmmss000R. */
export function relativeTime(totalSeconds: number): string {
  let s = Math.max(0, Math.floor(totalSeconds));
  const parts = [365 * 86400, 30 * 86400, 86400, 3600, 60, 1].map((unit) => {
    const n = Math.floor(s / unit);
    s -= n * unit;
    return n;
  });
  parts[0] = Math.min(parts[0] as number, 99);
  return `${parts.map((n) => String(n).padStart(2, '0')).join('')}000R`;
}

export class SmscBind {
  readonly smsc: string;
  readonly label: string;
  readonly type: BindType;
  private session: SmppSession | undefined;
  private stateValue: BindState = 'closed';
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private graceMs = 0;
  /** Why this bind is held unbound; undefined while it may bind. */
  private holdReason: string | undefined;
  private released: (() => void) | undefined;

  constructor(private readonly options: SmscBindOptions) {
    this.smsc = options.smsc;
    this.label = options.label;
    this.type = options.type;
    this.backoff = new Backoff(options.reconnectMinMs, options.reconnectMaxMs);
    this.log = (options.logger ?? silentLogger).child({ smsc: options.smsc, bind: options.label });
  }

  get state(): BindState {
    return this.stateValue;
  }

  /** True when this bind is bound and may carry submit_sm. */
  get canSubmit(): boolean {
    return this.stateValue === 'bound' && this.type !== 'receiver' && this.session !== undefined;
  }

  get freeWindow(): number {
    return this.canSubmit ? (this.session?.freeWindow ?? 0) : 0;
  }

  get inFlight(): number {
    return this.session?.inFlight ?? 0;
  }

  get windowSize(): number {
    return this.session?.timers.windowSize ?? this.options.timers.windowSize ?? 0;
  }

  /** Starts the connect/bind/reconnect loop; it runs until `stop`. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Resolves when the window has room or the bind is no longer bound. */
  async waitForWindow(): Promise<void> {
    if (this.session && this.canSubmit) await this.session.waitForWindow();
  }

  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const session = this.session;
    if (!session || !this.canSubmit) {
      return { kind: 'failed', code: 'not_bound', reason: `${this.label} is ${this.stateValue}` };
    }
    let tlvs: Tlv[] = [];
    if (req.sar) {
      tlvs = [
        makeTlv('sar_msg_ref_num', req.sar.reference),
        makeTlv('sar_total_segments', req.sar.total),
        makeTlv('sar_segment_seqnum', req.sar.seq),
      ];
    }
    if (req.payload) tlvs.push(makeTlv('message_payload', req.payload));
    try {
      // tlvs set on the built body rather than spread with it: a spread that copies 17 fields to
      // add one cost microseconds per submit.
      const init: PduInit<'submit_sm'> = shortMessageFields({
        source_addr_ton: req.source.ton,
        source_addr_npi: req.source.npi,
        source_addr: req.source.address,
        dest_addr_ton: req.destination.ton,
        dest_addr_npi: req.destination.npi,
        destination_addr: req.destination.address,
        esm_class: req.udhi ? ESM_CLASS.UDHI : 0,
        priority_flag: req.priority,
        validity_period: req.validitySeconds ? relativeTime(req.validitySeconds) : '',
        registered_delivery: req.registeredDelivery ? 1 : 0,
        data_coding: req.dataCoding,
        short_message: req.payload ? Buffer.alloc(0) : req.shortMessage,
      });
      init.tlvs = tlvs;
      const resp = await session.request('submit_sm', init);
      const messageId = resp.command === 'submit_sm_resp' ? resp.message_id : '';
      return { kind: 'response', commandStatus: resp.command_status, smscMessageId: messageId };
    } catch (err) {
      if (err instanceof SmppSessionError) {
        return { kind: 'failed', code: err.code, reason: err.message };
      }
      return { kind: 'failed', code: 'encode_failed', reason: (err as Error).message };
    }
  }

  /** Why the bind is held unbound, if it is. */
  get heldFor(): string | undefined {
    return this.holdReason;
  }

  /**
   * Unbinds cleanly (in-flight submits get up to `graceMs` to be answered) and stays unbound until
   * `release`: used when Parley cannot record what the SMSC says (Postgres down for long), so the
   * SMSC keeps its receipts and replies for later instead of retrying them at a bind that cannot
   * answer. The reason is logged.
   */
  hold(reason: string, graceMs = 1000): void {
    if (this.holdReason !== undefined || this.stopping) return;
    this.holdReason = reason;
    const session = this.session;
    this.log.warn({ reason }, 'smsc bind: unbinding and holding until released');
    if (session && session.state !== 'closed') {
      this.setState('closing');
      (async () => {
        await session.drain(graceMs);
        await session.unbind(1000);
      })().catch((err: unknown) => this.log.error({ err, reason }, 'smsc bind: unbinding for the hold failed'));
    }
  }

  /** Lets a held bind bind again at once. */
  release(): void {
    if (this.holdReason === undefined) return;
    this.log.info({ reason: this.holdReason }, 'smsc bind: released; binding again');
    this.holdReason = undefined;
    this.backoff.reset();
    this.released?.();
  }

  private waitForRelease(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.released = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.released = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Stops reconnecting, lets in-flight submits finish for up to `graceMs`, unbinds and closes.
   * Calling it twice returns the same promise.
   */
  stop(graceMs = 0): Promise<void> {
    if (this.stopping) return this.stopping;
    this.graceMs = graceMs;
    this.stopping = (async () => {
      this.stopController.abort();
      const session = this.session;
      if (session && session.state !== 'closed') {
        this.setState('closing');
        const left = await session.drain(graceMs);
        if (left > 0) this.log.warn({ inFlight: left }, 'smsc bind: grace time over with submits in flight');
        await session.unbind(1000);
      }
      await this.loop;
      this.setState('closed');
    })();
    return this.stopping;
  }

  private setState(next: BindState): void {
    const previous = this.stateValue;
    if (previous === next) return;
    this.stateValue = next;
    this.log.info({ from: previous, to: next }, 'smsc bind state');
    try {
      this.options.onStateChange?.(next, this);
    } catch (err) {
      this.log.error({ err }, 'smsc bind onStateChange failed');
    }
  }

  /** An observer that throws must not break the bind loop; it is logged instead. */
  private observe(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err }, 'smsc bind observer failed');
    }
  }

  private tlsOptions(): tls.ConnectionOptions | undefined {
    const t = this.options.tls;
    if (!t) return undefined;
    return {
      ca: t.caFile ? readFileSync(t.caFile) : undefined,
      servername: t.servername ?? this.options.host,
      rejectUnauthorized: t.rejectUnauthorized,
    };
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      if (this.holdReason !== undefined) {
        this.setState('held');
        await this.waitForRelease(signal);
        continue;
      }
      let delay: number;
      const boundAt = await this.connectAndHold();
      if (signal.aborted) break;
      // Unbound on purpose: no backoff, wait for the release.
      if (this.holdReason !== undefined) continue;
      if (boundAt === 'credentials') {
        delay = this.backoff.atCap();
      } else {
        // Any successful bind starts the backoff over, however short it lasted: the first retry
        // after a drop comes within reconnect_min, and the jitter keeps a flapping SMSC from
        // seeing every client at once.
        if (boundAt !== undefined) this.backoff.reset();
        delay = this.backoff.next();
      }
      this.setState('backoff');
      this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'smsc bind: reconnecting after backoff');
      await sleep(delay, signal);
    }
    if (this.stateValue !== 'closing') this.setState('closed');
  }

  /** One connection's life. Returns when it was bound (ms), undefined if never, or 'credentials'. */
  private async connectAndHold(): Promise<number | undefined | 'credentials'> {
    const o = this.options;
    this.setState('connecting');
    let session: SmppSession;
    try {
      session = await connectSession(
        { host: o.host, port: o.port, tls: o.tls ? this.tlsOptions() : undefined, connectTimeoutMs: o.connectTimeoutMs },
        {
          timers: o.timers,
          logger: this.log,
          handlers: { onRequest: (pdu, _session, frame) => this.onRequest(pdu, frame) },
        },
      );
    } catch (err) {
      this.log.warn({ err: (err as Error).message, host: o.host, port: o.port }, 'smsc bind: connect failed');
      this.observe(() => o.onBindFailure?.('connect_failed', this));
      return undefined;
    }
    if (this.stopController.signal.aborted) {
      session.close();
      return undefined;
    }
    this.session = session;
    this.setState('binding');
    try {
      await session.bind(o.type, { system_id: o.systemId, password: o.password, system_type: o.systemType });
    } catch (err) {
      session.close();
      this.session = undefined;
      const status = err instanceof SmppSessionError ? err.commandStatus : undefined;
      const reason = status !== undefined ? commandStatusName(status) : err instanceof SmppSessionError ? err.code : 'bind_failed';
      this.observe(() => o.onBindFailure?.(reason, this));
      if (status !== undefined && CREDENTIAL_REFUSALS.has(status)) {
        this.log.error(
          { status: commandStatusName(status), systemId: o.systemId },
          `smsc ${o.smsc} refused the bind (${commandStatusName(status)}): check system_id and password; retrying at the backoff cap`,
        );
        return 'credentials';
      }
      this.log.warn({ err: (err as Error).message }, 'smsc bind: bind failed');
      return undefined;
    }
    const boundAt = Date.now();
    if (this.holdReason !== undefined) {
      // Held while binding: leave again at once.
      await session.unbind(1000);
    } else {
      this.setState('bound');
    }
    const reason = await session.closed;
    this.session = undefined;
    if (!this.stopController.signal.aborted && this.holdReason === undefined) {
      this.log.warn({ reason: reason.code, detail: reason.message }, 'smsc bind: connection lost');
      if (this.stateValue === 'bound') this.observe(() => o.onConnectionLost?.(this));
    }
    return boundAt;
  }

  private async onRequest(pdu: IncomingRequest, frame: Buffer): Promise<Reply> {
    if (pdu.command !== 'deliver_sm' && pdu.command !== 'data_sm') {
      // alert_notification and others need no answer from Parley beyond the session's own.
      return {};
    }
    const handler = this.options.onInbound;
    if (!handler) return { command_status: ESME_ROK };
    const answer = await handler(readInboundSm(pdu, frame, this.smsc, this.label));
    return { command_status: answer === 'ok' ? ESME_ROK : ESME_RX_T_APPN };
  }
}
