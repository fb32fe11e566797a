/**
 * What the dispatcher is given and tells: the SMSC links it submits on, where it records results
 * and attempts, who watches it, and the jobs it takes. The daemon's wiring implements these.
 */
import type { RouteConfig, SmscConfig } from '../config/types.ts';
import type { SubmitRequest, SubmitResult } from '../smpp/smsc-bind.ts';
import type { Logger } from '../lib/logger.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import type { SegmentRecord } from '../domain/segment.ts';
import type { StatusChange } from '../domain/events.ts';
import type { SubmitOutcome } from './submit-outcome.ts';
import type { RouteThrottle } from './route-throttle.ts';

/** What the dispatcher needs of one SMSC's binds (an `SmscPool`). */
export interface SmscLink {
  readonly smsc: string;
  readonly canSubmit: boolean;
  pickBind(): { readonly label: string; submit(req: SubmitRequest): Promise<SubmitResult> } | undefined;
  waitForWindow(): Promise<void>;
}

export interface SubmitRecording {
  recordSegment(segment: SegmentRecord): void;
  recordChange(change: StatusChange): Promise<void>;
}

export interface AttemptLedger {
  /** Counts one dispatch attempt for each message; resolves once committed. */
  markAttempted(ids: readonly string[]): Promise<void>;
  /** Takes back attempts for messages none of whose segments left after all. */
  unmarkAttempted(ids: readonly string[]): Promise<void>;
}

export interface DispatchObserver {
  onSubmitted?(route: string, smsc: string, outcome: SubmitOutcome['kind'], status: string, latencyMs: number): void;
  /** An answer to a customer's message went on the wire, this long after that message arrived. */
  onAnswerOnWire?(route: string, sinceArrivalMs: number): void;
  /**
   * A segment is to be submitted again after `delayMs`: `reason` is why the last submit did not
   * do (the command_status name, or `response_timeout`, `malformed_response`...). `uncertain`:
   * the last submit may have reached the SMSC, so the customer may get a copy.
   */
  onResend?(route: string, smsc: string, reason: string, uncertain: boolean, delayMs: number): void;
  /** The SMSC accepted a segment (ESME_ROK) with an empty message_id: no receipt can match it. */
  onEmptySmscMessageId?(route: string, smsc: string): void;
}

/** A message taken up by the dispatcher, with what is known of earlier attempts. */
export interface DispatchJob {
  readonly message: RoutedMessage;
  /** Dispatch attempts already counted (recovered messages): above 0, a submit may have left. */
  readonly priorAttempts: number;
  /** Segments already accepted in an earlier run. */
  readonly acceptedSegments: ReadonlySet<number>;
  /** performance.now() when the customer's message this answers arrived (auto-replies). */
  readonly answerTo?: number;
}

/** Routes and SMSCs paused at run time (`parley route|smsc pause`), shared by every daemon. */
export interface DispatchControls {
  routePaused(route: string): boolean;
  smscPaused(smsc: string): boolean;
  /** Cancelled by an operator (`parley queue cancel`): not to be sent. */
  cancelled(messageId: string): boolean;
}

export interface DispatcherDeps {
  readonly routes: readonly RouteConfig[];
  readonly smscs: ReadonlyMap<string, { readonly link: SmscLink; readonly config: SmscConfig }>;
  throttleFor(route: RouteConfig): RouteThrottle;
  readonly attempts: AttemptLedger;
  readonly recorder: SubmitRecording;
  readonly logger: Logger;
  readonly observer?: DispatchObserver;
  /** Most submits of one segment before it is given up as failed (or unknown). */
  readonly maxSegmentAttempts?: number;
  /** Random source for concatenation references, injectable for tests. */
  readonly random?: () => number;
  /**
   * Whether this daemon may send on the route at all now: false when every SMSC of the route is
   * capped by `max_binds` and this daemon holds no lease on any of them. Absent: always.
   */
  canServe?(route: RouteConfig): boolean;
  /** Gives messages this daemon cannot send back to Postgres for a daemon that can (owner cleared). */
  handBack?(ids: readonly string[]): Promise<void>;
  /** Run-time pauses; none when absent. */
  readonly controls?: DispatchControls;
}
