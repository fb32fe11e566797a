/**
 * A message as one route's dispatcher holds it: its segments' submit state, and the waiting jobs
 * in priority order.
 */
import type { Backoff } from '../lib/backoff.ts';
import { Deque } from '../lib/deque.ts';
import type { SubmitRequest } from '../smpp/smsc-bind.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';

/** One segment's submit state. */
export interface SegmentTask {
  readonly seq: number;
  readonly total: number;
  readonly request: SubmitRequest;
  sent: number;
  /** Submits that got no usable answer (it may have reached the SMSC). */
  uncertain: number;
  possibleDuplicate: boolean;
  /** THE backoff (lib/backoff.ts) between this segment's resends; made on its first resend. */
  backoff: Backoff | undefined;
}

export interface Job {
  readonly message: RoutedMessage;
  readonly from: string;
  readonly priorAttempts: number;
  readonly accepted: Set<number>;
  readonly answerTo: number | undefined;
  smsc: string | undefined;
  segments: SegmentTask[];
  total: number;
  inFlight: number;
  finished: boolean;
}

/** Nothing of the message has left: no segment sent, none in flight, none accepted in an earlier run. */
export function untouched(job: Job): boolean {
  return job.inFlight === 0 && job.accepted.size === 0 && job.segments.every((s) => s.sent === 0);
}

/** Past its expires_at or the route's max_queue_age, with nothing of it on the wire yet. */
export function expiredUnsent(job: Job, now = Date.now()): boolean {
  const at = job.message.expiresAt;
  return at !== undefined && at.getTime() <= now && untouched(job);
}

/** Jobs waiting to be planned, highest priority first (priority 3 before 0), in arrival order within one. */
export class WaitingJobs {
  private readonly queues = [new Deque<Job>(), new Deque<Job>(), new Deque<Job>(), new Deque<Job>()];

  get size(): number {
    let n = 0;
    for (const q of this.queues) n += q.length;
    return n;
  }

  push(job: Job): void {
    (this.queues[job.message.priority] ?? this.queues[0]!).push(job);
  }

  /** Up to `max` jobs, highest priority first. */
  take(max: number): Job[] {
    const jobs: Job[] = [];
    for (let p = 3; p >= 0 && jobs.length < max; p--) {
      const q = this.queues[p]!;
      while (jobs.length < max && q.length > 0) jobs.push(q.shift()!);
    }
    return jobs;
  }

  /** Returns taken jobs to the front of their queues, in the order they were taken. */
  putBack(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      (this.queues[job.message.priority] ?? this.queues[0]!).unshift(job);
    }
  }
}
