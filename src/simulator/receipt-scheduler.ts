/**
 * Delivery receipts for accepted submits: picks each outcome from the mix (or the caller's
 * `pickReceiptStat`), schedules the intermediate and final receipts on the timeline after a random
 * delay, or sends the final one before the submit's response (`receiptBeforeResponse`), and builds
 * the deliver_sm when a receipt falls due.
 */
import { ESM_CLASS } from '../smpp/pdu.ts';
import type { Arrival } from './arrival-log.ts';
import { formatReceiptId } from './message-ids.ts';
import { randomBetween } from './random.ts';
import {
  buildReceiptPdu,
  compileReceiptMix,
  pickReceiptStat,
  receiptTextSnippet,
  type CompiledMix,
  type ReceiptAddresses,
  type ReceiptStat,
} from './receipts.ts';
import { wallNow, type BindRecord, type ReceiptJob, type SimulatorCore } from './simulator-types.ts';

export class ReceiptScheduler {
  /** Receipts waiting on the timeline for their delay. */
  waiting = 0;
  private mix: CompiledMix;

  constructor(private readonly core: SimulatorCore) {
    this.mix = compileReceiptMix(core.opts.receiptMix);
  }

  /** Compiles the receipt mix of the current options again (after setOptions). */
  recompileMix(): void {
    this.mix = compileReceiptMix(this.core.opts.receiptMix);
  }

  /** Schedules the receipts a submit asked for; returns what the response must wait for. */
  plan(arrival: Arrival, bind: BindRecord, wanted: number, now: number): Promise<void> | undefined {
    const o = this.core.opts;
    const counters = this.core.counters;
    let stat: ReceiptStat;
    try {
      stat = o.pickReceiptStat?.(arrival) ?? pickReceiptStat(this.mix, this.core.random);
    } catch (err) {
      this.core.log.error({ err }, 'smsc simulator pickReceiptStat threw; using the mix');
      stat = pickReceiptStat(this.mix, this.core.random);
    }
    // registered_delivery 2: a receipt on failure only.
    const finalWanted = wanted === 1 || wanted === 3 || (wanted === 2 && stat !== 'DELIVRD');
    const intermediateWanted = o.receiptIntermediate && (wanted === 1 || wanted === 3 || (arrival.registeredDelivery & 0x10) !== 0);
    const target = bind.systemId;
    if (o.receiptBeforeResponse) {
      if (!finalWanted) return undefined;
      counters.receiptsScheduled++;
      const fields = this.build({ arrival, stat, esmClass: ESM_CLASS.TYPE_DELIVERY_RECEIPT, target });
      if (!fields) return undefined;
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const sent = this.core.outbox.addNow('receipt', target, fields, () => release());
      if (!sent) return undefined;
      this.core.timeline.schedule(now + o.receiptBeforeResponseMaxWaitMs, { kind: 'release', release });
      return released;
    }
    const delayMs = randomBetween(this.core.random, o.receiptDelayMs.minMs, o.receiptDelayMs.maxMs);
    if (intermediateWanted) {
      counters.receiptsScheduled++;
      this.waiting++;
      this.core.timeline.schedule(now + delayMs / 2, { kind: 'receipt', job: { arrival, stat: 'ENROUTE', esmClass: o.intermediateEsmClass, target } });
    }
    if (finalWanted) {
      counters.receiptsScheduled++;
      this.waiting++;
      this.core.timeline.schedule(now + delayMs, { kind: 'receipt', job: { arrival, stat, esmClass: ESM_CLASS.TYPE_DELIVERY_RECEIPT, target } });
    }
    return undefined;
  }

  /** Puts a receipt kept in the state file back on the timeline. */
  restore(atMs: number, job: ReceiptJob): void {
    this.waiting++;
    this.core.timeline.schedule(atMs, { kind: 'receipt', job });
  }

  /** A receipt fell due: its deliver_sm goes to the outbox. */
  send(job: ReceiptJob): void {
    this.waiting--;
    const fields = this.build(job);
    if (fields) this.core.outbox.add('receipt', job.target, fields);
  }

  /** A receipt left the timeline without being sent (reset, stop). */
  drop(): void {
    this.waiting--;
  }

  private build(job: ReceiptJob): ReturnType<typeof buildReceiptPdu> | undefined {
    const a = job.arrival;
    const o = this.core.opts;
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
      this.core.log.error({ err, messageId: a.messageId }, 'smsc simulator cannot build a receipt');
      return undefined;
    }
  }
}
