/**
 * What one route's sending loop does with each submit_sm answer: record the segment, slow the
 * route on a throttle, send again (at once, or after THE backoff with a cap on attempts and on
 * uncertain copies), or finish the message failed or unknown. The loop (route-dispatcher.ts) owns
 * the queues; the segments to send again are put back on its ready queue from here.
 */
import type { RouteConfig } from '../config/types.ts';
import type { Logger } from '../lib/logger.ts';
import { Backoff } from '../lib/backoff.ts';
import type { Deque } from '../lib/deque.ts';
import { RateLimitedLog } from '../lib/rate-limited-log.ts';
import type { Wakeup } from '../lib/wakeup.ts';
import type { MessageStatus } from '../domain/status.ts';
import { responseIdKey } from '../domain/smsc-message-id.ts';
import { formatErrorCode } from '../domain/error-code.ts';
import type { SubmitOutcome } from './submit-outcome.ts';
import type { RouteThrottle } from './route-throttle.ts';
import type { DispatcherDeps } from './dispatch-ports.ts';
import type { Job, SegmentTask } from './dispatch-job.ts';

const DEFAULT_MAX_SEGMENT_ATTEMPTS = 10;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;
const THROTTLED_RETRY_MS = 100;

/** The sending loop's state the answers act on. */
export interface SubmitResultContext {
  readonly route: RouteConfig;
  readonly throttle: RouteThrottle;
  readonly deps: DispatcherDeps;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Segments ready to go, their attempt counted: a segment sent again goes back to its front. */
  readonly ready: Deque<{ job: Job; task: SegmentTask }>;
  readonly wakeup: Wakeup;
  /** Ends the message with its final status (once). */
  finish(job: Job, status: MessageStatus, error: { errorCode?: string; errorReason?: string }): void;
}

export class SubmitResultHandling {
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Warnings an SMSC can set off once per submit: limited, with a count of the rest. */
  private readonly carrierLog: RateLimitedLog;

  constructor(private readonly c: SubmitResultContext) {
    this.carrierLog = new RateLimitedLog(c.log);
  }

  /** Drops the resends still waiting for their delay (the loop is stopping). */
  cancelRetries(): void {
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
  }

  /** One decision per submit answer (submit-outcome.ts): recorded, retried after a delay, or the message finished. */
  onResult(
    job: Job,
    task: SegmentTask,
    smsc: string,
    bind: string,
    submittedAt: Date,
    outcome: SubmitOutcome,
    latencyMs: number,
  ): void {
    // The command_status name when the SMSC answered, else why there was no answer (bounded values).
    const status =
      outcome.kind === 'accepted'
        ? 'ESME_ROK'
        : outcome.kind === 'throttled'
          ? outcome.status
          : 'error' in outcome
            ? (outcome.error.commandStatus ?? outcome.error.code)
            : 'not_sent';
    this.c.deps.observer?.onSubmitted?.(this.c.route.name, smsc, outcome.kind, status, latencyMs);
    const maxAttempts = this.c.deps.maxSegmentAttempts ?? DEFAULT_MAX_SEGMENT_ATTEMPTS;
    switch (outcome.kind) {
      case 'accepted':
        this.c.throttle.onAccepted();
        if (outcome.smscMessageId === '') {
          // Accepted, but with nothing to match its receipts by: the message can only end unknown.
          this.c.deps.observer?.onEmptySmscMessageId?.(this.c.route.name, smsc);
          this.carrierLog.warn({ smsc, bind, id: job.message.id, seq: task.seq }, 'smsc accepted a submit with an empty message_id; its receipts cannot be matched');
        }
        this.record(job, task, smsc, bind, submittedAt, 'accepted', outcome.smscMessageId, 0);
        job.accepted.add(task.seq);
        if (!job.finished && job.accepted.size >= job.total) {
          this.c.finish(job, 'submitted', {});
        }
        return;
      case 'throttled':
        this.c.throttle.onThrottled();
        this.requeue(job, task, THROTTLED_RETRY_MS);
        return;
      case 'not_sent':
        this.requeue(job, task, 0);
        return;
      case 'retry':
        if (task.sent >= maxAttempts) {
          this.c.finish(job, 'failed', { errorCode: formatErrorCode(outcome.error), errorReason: `${outcome.reason} (after ${task.sent} attempts)` });
          return;
        }
        this.resend(job, task, smsc, status, false);
        return;
      case 'failed':
        this.record(job, task, smsc, bind, submittedAt, 'failed', null, null);
        this.c.finish(job, 'failed', { errorCode: formatErrorCode(outcome.error), errorReason: outcome.reason });
        return;
      case 'uncertain':
        if (this.c.route.uncertainSubmit === 'unknown') {
          this.c.finish(job, 'unknown', { errorCode: formatErrorCode(outcome.error), errorReason: outcome.reason });
          return;
        }
        // Each resend may reach the customer as one more copy: at most `uncertain_max_attempts`
        // such submits, spaced by the backoff (an SMSC that answers garbage at once would
        // otherwise get the whole allowance within a second).
        task.uncertain++;
        if (task.uncertain >= this.c.route.uncertainMaxAttempts || task.sent >= maxAttempts) {
          this.c.finish(job, 'unknown', { errorCode: formatErrorCode(outcome.error), errorReason: `${outcome.reason} (after ${task.sent} attempts)` });
          return;
        }
        task.possibleDuplicate = true;
        this.resend(job, task, smsc, status, true);
        return;
    }
  }

  /** The segment's answer, for the submit recorder (a method: onResult runs for every segment). */
  private record(
    job: Job,
    task: SegmentTask,
    smsc: string,
    bind: string,
    submittedAt: Date,
    segmentStatus: 'accepted' | 'failed',
    smscMessageId: string | null,
    commandStatus: number | null,
  ): void {
    this.c.deps.recorder.recordSegment({
      messageId: job.message.id,
      seq: task.seq,
      total: task.total,
      smsc,
      bind,
      smscMessageId,
      matchKey: smscMessageId === null ? null : responseIdKey(smscMessageId, this.c.deps.smscs.get(smsc)!.config.idFormat),
      commandStatus,
      status: segmentStatus,
      attempts: task.sent,
      possibleDuplicate: task.possibleDuplicate,
      submittedAt,
      respondedAt: new Date(),
    });
  }

  /** Submits the segment again after THE backoff's next delay (capped, jittered), counted. */
  private resend(job: Job, task: SegmentTask, smsc: string, reason: string, uncertain: boolean): void {
    task.backoff ??= new Backoff(RETRY_BASE_MS, RETRY_MAX_MS, this.c.deps.random);
    const delayMs = task.backoff.next();
    this.c.deps.observer?.onResend?.(this.c.route.name, smsc, reason, uncertain, delayMs);
    if (uncertain) this.c.log.debug({ id: job.message.id, seq: task.seq, smsc, reason, attempts: task.sent, delayMs }, 'submit got no usable answer; sending it again after a backoff');
    this.requeue(job, task, delayMs);
  }

  private requeue(job: Job, task: SegmentTask, delayMs: number): void {
    if (this.c.signal.aborted) return;
    if (delayMs <= 0) {
      this.c.ready.unshift({ job, task });
      this.c.wakeup.notify();
      return;
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.c.ready.unshift({ job, task });
      this.c.wakeup.notify();
    }, delayMs);
    this.retryTimers.add(timer);
  }
}
