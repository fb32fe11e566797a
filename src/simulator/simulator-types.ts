/**
 * The simulator's shapes shared by its parts: the public state, stats and bind summaries, and the
 * internal bind record, counters and timeline entries that bind handling, receipt scheduling and
 * customer replies all touch.
 */
import type { Logger } from '../lib/logger.ts';
import type { BindType } from '../smpp/session.ts';
import type { TokenBucket } from '../lib/token-bucket.ts';
import type { Arrival } from './arrival-log.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { Outbox, OutItem, Receiver } from './outbox.ts';
import type { Random } from './random.ts';
import type { ReceiptStat } from './receipts.ts';
import type { ReplyRequest } from './replies.ts';
import type { Timeline } from './timeline.ts';

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

export interface BindRecord extends Receiver {
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

export interface ReceiptJob {
  readonly arrival: Arrival;
  readonly stat: ReceiptStat;
  readonly esmClass: number;
  readonly target: string;
}

/** What the simulator's one timer holds: receipts, outbox retries, handset replies, held responses. */
export type Due =
  | { readonly kind: 'receipt'; readonly job: ReceiptJob }
  | { readonly kind: 'retry'; readonly item: OutItem }
  | { readonly kind: 'handset'; readonly reply: ReplyRequest }
  | { readonly kind: 'release'; readonly release: () => void };

export type Counters = ReturnType<typeof zeroCounters>;

export function zeroCounters() {
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

export const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * What the simulator's parts share. `opts` and `counters` are replaced (setOptions, reset), so the
 * parts read them through this object at each use, never keep a copy.
 */
export interface SimulatorCore {
  opts: ResolvedSimulatorOptions;
  counters: Counters;
  readonly log: Logger;
  readonly random: Random;
  readonly timeline: Timeline<Due>;
  readonly outbox: Outbox;
}
