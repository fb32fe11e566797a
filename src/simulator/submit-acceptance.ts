/**
 * The simulator's answer to submit_sm and data_sm: TPS throttling (simulator-wide and per bind),
 * the arrival log entry, `rejectSubmit`, the message id, and what the response waits for (a
 * receipt sent first, `responseDelayMs`); query_sm is answered as unsupported.
 */
import type { Mutable } from '../domain/mutable.ts';
import { ESME_RINVBNDSTS, ESME_ROK, ESME_RTHROTTLED, commandStatusCode } from '../smpp/command-status.ts';
import type { PduOf } from '../smpp/pdu.ts';
import type { IncomingRequest, Reply, SmppSession } from '../smpp/session.ts';
import type { TokenBucket } from '../lib/token-bucket.ts';
import type { Arrival, ArrivalLog, ArrivalStatus } from './arrival-log.ts';
import type { CustomerReplies } from './customer-replies.ts';
import type { MessageIdGenerator } from './message-ids.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { ReceiptScheduler } from './receipt-scheduler.ts';
import { makeBucket, type SimulatorBinds } from './simulator-binds.ts';
import type { SimulatorCore } from './simulator-types.ts';
import { readContent } from './submit-content.ts';

type Draft = Mutable<Arrival>;

const ESME_RQUERYFAIL = commandStatusCode('ESME_RQUERYFAIL');

export interface SubmitParts {
  readonly binds: SimulatorBinds;
  readonly arrivalLog: ArrivalLog;
  readonly ids: MessageIdGenerator;
  readonly receipts: ReceiptScheduler;
  readonly replies: CustomerReplies;
  readonly isStopping: () => boolean;
}

export class SubmitAcceptance {
  private globalBucket: TokenBucket | undefined;

  constructor(
    private readonly core: SimulatorCore,
    private readonly parts: SubmitParts,
  ) {
    this.globalBucket = makeBucket(core.opts.tps, core.opts.tpsBurst);
  }

  /** Applies changed TPS limits, keeping the tokens of buckets that stay. */
  retune(previous: ResolvedSimulatorOptions, now: number): void {
    const next = this.core.opts;
    if (next.tps !== previous.tps || next.tpsBurst !== previous.tpsBurst) {
      if (next.tps > 0 && this.globalBucket) this.globalBucket.reconfigure(next.tps, next.tpsBurst, now);
      else this.globalBucket = makeBucket(next.tps, next.tpsBurst);
    }
    if (next.tpsPerBind !== previous.tpsPerBind || next.tpsPerBindBurst !== previous.tpsPerBindBurst) {
      for (const bind of this.parts.binds.values()) {
        if (next.tpsPerBind > 0 && bind.bucket) bind.bucket.reconfigure(next.tpsPerBind, next.tpsPerBindBurst, now);
        else bind.bucket = makeBucket(next.tpsPerBind, next.tpsPerBindBurst);
      }
    }
  }

  /** Forgets throttle state: every bucket full again. */
  refill(now: number): void {
    this.globalBucket?.refillFully(now);
  }

  answer(pdu: IncomingRequest, session: SmppSession): Reply | Promise<Reply> {
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm':
        return this.accept(pdu, session);
      case 'query_sm':
        return { command_status: ESME_RQUERYFAIL, message_id: pdu.message_id };
      default:
        return {};
    }
  }

  private accept(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'>, session: SmppSession): Reply | Promise<Reply> {
    const bind = this.parts.binds.get(session);
    if (!bind) return { command_status: ESME_RINVBNDSTS };
    const o = this.core.opts;
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
      seq: this.parts.arrivalLog.nextSeq(),
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
      this.core.counters.throttled++;
      bind.throttled++;
      this.parts.arrivalLog.add(arrival);
      return { command_status: ESME_RTHROTTLED };
    }
    if (arrival.status === 'rejected') {
      this.core.counters.rejected++;
      this.parts.arrivalLog.add(arrival);
      return { command_status: arrival.commandStatus };
    }
    const messageId = this.parts.ids.next(o.idFormat);
    arrival.messageId = messageId;
    this.parts.arrivalLog.add(arrival);
    this.core.counters.submits++;
    if (pdu.command === 'data_sm') this.core.counters.dataSm++;
    bind.submits++;

    const waits: Promise<void>[] = [];
    const wanted = arrival.registeredDelivery & 0x03;
    if (wanted !== 0 || (arrival.registeredDelivery & 0x10) !== 0) {
      const wait = this.parts.receipts.plan(arrival, bind, wanted, now);
      if (wait) waits.push(wait);
    }
    if (this.parts.replies.handsetEnabled) this.parts.replies.answerAsHandset(arrival, bind, now);
    if (o.responseDelayMs > 0 && !this.parts.isStopping()) {
      waits.push(new Promise((release) => this.core.timeline.schedule(now + o.responseDelayMs, { kind: 'release', release })));
    }
    const reply: Reply = { message_id: messageId };
    if (waits.length === 0) return reply;
    return Promise.all(waits).then(() => reply);
  }
}
