/** What the simulator counts per delivery attempt and how its counters read as `stats`. */
import type { Logger } from '../lib/logger.ts';
import type { AttemptOutcome, Outbox, OutItem } from './outbox.ts';
import type { SimulatorBinds } from './simulator-binds.ts';
import type { BindRecord, Counters, SimulatorState, SimulatorStats } from './simulator-types.ts';

/** A deliver_sm written to a bind (resends included). */
export function countSent(counters: Counters, item: OutItem, bind: BindRecord): void {
  if (item.kind === 'receipt') {
    counters.receiptsSent++;
    bind.receiptsSent++;
  } else {
    counters.repliesSent++;
    bind.repliesSent++;
  }
}

/** How one deliver_sm attempt ended. */
export function countOutcome(counters: Counters, log: Logger, item: OutItem, bind: BindRecord, outcome: AttemptOutcome, detail: string): void {
  if (outcome !== 'acked') {
    counters.failedAttempts++;
    // Rare and final (an address too long for deliver_sm): worth a line, unlike a retry.
    if (outcome === 'unencodable') log.warn({ bind: bind.id, kind: item.kind, detail }, 'smsc simulator dropped an unencodable deliver_sm');
    return;
  }
  if (item.kind === 'receipt') {
    counters.receiptsAcked++;
    bind.receiptsAcked++;
  } else {
    counters.repliesAcked++;
    bind.repliesAcked++;
  }
}

export interface StatsSources {
  readonly state: SimulatorState;
  readonly uptimeMs: number;
  readonly binds: SimulatorBinds;
  /** Receipts waiting on the timeline for their delay. */
  readonly receiptsWaiting: number;
  readonly outbox: Outbox;
  readonly lastArrival: number;
}

export function summariseStats(c: Counters, from: StatsSources): SimulatorStats {
  let transmitter = 0;
  let receiver = 0;
  let transceiver = 0;
  for (const b of from.binds.values()) {
    if (b.type === 'transmitter') transmitter++;
    else if (b.type === 'receiver') receiver++;
    else transceiver++;
  }
  return {
    state: from.state,
    uptimeMs: from.uptimeMs,
    binds: { current: from.binds.size, transmitter, receiver, transceiver, total: c.bindsTotal, refused: c.bindsRefused },
    submits: c.submits,
    dataSm: c.dataSm,
    throttled: c.throttled,
    rejected: c.rejected,
    receipts: {
      scheduled: c.receiptsScheduled,
      sent: c.receiptsSent,
      acked: c.receiptsAcked,
      failedAttempts: c.failedAttempts,
      pending: from.receiptsWaiting + from.outbox.pending('receipt'),
    },
    replies: {
      injected: c.repliesInjected,
      handset: c.repliesHandset,
      parts: c.replyParts,
      sent: c.repliesSent,
      acked: c.repliesAcked,
      pending: from.outbox.pending('reply'),
    },
    arrivals: from.lastArrival,
  };
}
