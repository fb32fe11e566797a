/**
 * The simulator's binds: answers bind requests (credentials, refused while not running), keeps a
 * record per bound session with its own TPS bucket and counters, and hands receiving binds (RX,
 * TRX) to the outbox while they are up.
 */
import { ESME_RINVPASWD, ESME_RINVSYSID, ESME_ROK, ESME_RSYSERR } from '../smpp/command-status.ts';
import type { BindPdu, BindType, Reply, SessionState, SmppSession } from '../smpp/session.ts';
import { TokenBucket } from '../lib/token-bucket.ts';
import { wallNow, type BindRecord, type BindSummary, type SimulatorCore } from './simulator-types.ts';

const TYPE_OF_STATE: Partial<Record<SessionState, BindType>> = {
  bound_tx: 'transmitter',
  bound_rx: 'receiver',
  bound_trx: 'transceiver',
};

export function makeBucket(tps: number, burst: number): TokenBucket | undefined {
  return tps > 0 ? new TokenBucket(tps, burst, performance.now()) : undefined;
}

export class SimulatorBinds {
  private readonly bindsBySession = new Map<SmppSession, BindRecord>();
  private readonly bindSystemIds = new WeakMap<SmppSession, string>();
  private bindCounter = 0;

  constructor(
    private readonly core: SimulatorCore,
    private readonly isRunning: () => boolean,
  ) {}

  get(session: SmppSession): BindRecord | undefined {
    return this.bindsBySession.get(session);
  }

  values(): IterableIterator<BindRecord> {
    return this.bindsBySession.values();
  }

  get size(): number {
    return this.bindsBySession.size;
  }

  answerBind(pdu: BindPdu, session: SmppSession): Reply {
    const counters = this.core.counters;
    const opts = this.core.opts;
    if (!this.isRunning()) {
      counters.bindsRefused++;
      return { command_status: ESME_RSYSERR, system_id: opts.systemId };
    }
    const credentials = opts.credentials;
    if (credentials.length > 0) {
      const known = credentials.filter((c) => c.systemId === pdu.system_id);
      let status = ESME_ROK;
      if (known.length === 0) status = ESME_RINVSYSID;
      else if (!known.some((c) => c.password === pdu.password)) status = ESME_RINVPASWD;
      if (status !== ESME_ROK) {
        counters.bindsRefused++;
        this.core.log.info({ systemId: pdu.system_id, peer: session.remoteAddress, command: pdu.command, status }, 'smsc simulator refused a bind');
        return { command_status: status, system_id: opts.systemId };
      }
    }
    this.bindSystemIds.set(session, pdu.system_id);
    return { command_status: ESME_ROK, system_id: opts.systemId };
  }

  onSessionState(state: SessionState, previous: SessionState, session: SmppSession): void {
    const type = TYPE_OF_STATE[state];
    if (type && !this.bindsBySession.has(session)) {
      const bind: BindRecord = {
        id: `b${++this.bindCounter}`,
        systemId: this.bindSystemIds.get(session) ?? '',
        session,
        type,
        remote: session.remoteAddress,
        boundAtMs: wallNow(),
        bucket: makeBucket(this.core.opts.tpsPerBind, this.core.opts.tpsPerBindBurst),
        submits: 0,
        throttled: 0,
        receiptsSent: 0,
        receiptsAcked: 0,
        repliesSent: 0,
        repliesAcked: 0,
      };
      this.bindsBySession.set(session, bind);
      this.core.counters.bindsTotal++;
      if (type !== 'transmitter') this.core.outbox.addReceiver(bind);
      this.core.log.info({ bind: bind.id, systemId: bind.systemId, type, peer: bind.remote }, 'smsc simulator bound');
      return;
    }
    if (TYPE_OF_STATE[previous] && !type) {
      const bind = this.bindsBySession.get(session);
      if (!bind) return;
      this.bindsBySession.delete(session);
      this.core.outbox.removeReceiver(bind);
      this.core.log.info(
        { bind: bind.id, systemId: bind.systemId, type: bind.type, submits: bind.submits, receiptsAcked: bind.receiptsAcked, state },
        'smsc simulator bind ended',
      );
    }
  }

  /** Refills every bind's bucket and zeroes its counters (Simulator.reset). */
  reset(now: number): void {
    for (const bind of this.bindsBySession.values()) {
      bind.bucket?.refillFully(now);
      bind.submits = bind.throttled = bind.receiptsSent = bind.receiptsAcked = bind.repliesSent = bind.repliesAcked = 0;
    }
  }

  summaries(): BindSummary[] {
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
}
