/**
 * One route's sending loop: priority order, the route's throttle right before each submit_sm, the
 * first SMSC of the route that has a bound bind, and one decision per result (submit-outcome.ts,
 * acted on by submit-result-handling.ts). The next batch is planned and its attempts counted
 * while the current one is on the wire.
 */
import type { RouteConfig } from '../config/types.ts';
import type { SubmitResult } from '../smpp/smsc-bind.ts';
import type { Logger } from '../lib/logger.ts';
import { Deque } from '../lib/deque.ts';
import { Wakeup } from '../lib/wakeup.ts';
import { describeError } from '../lib/errors.ts';
import type { MessageStatus } from '../domain/status.ts';
import { QUEUE_AGE_ERROR } from '../domain/queue-age.ts';
import { classifySubmit } from './submit-outcome.ts';
import { planSegments, type PlannedSegment } from './encoding.ts';
import type { RouteThrottle } from './route-throttle.ts';
import { defaultFromOf } from './router.ts';
import type { DispatchJob, DispatcherDeps } from './dispatch-ports.ts';
import { WaitingJobs, expiredUnsent, untouched, type Job, type SegmentTask } from './dispatch-job.ts';
import { SubmitResultHandling } from './submit-result-handling.ts';

const NO_BIND_WAIT_MS = 500;

/** One route's queue and its loop: the only owner of that route's sending. */
export class RouteDispatcher {
  private readonly waiting = new WaitingJobs();
  /** Segments ready to go, their attempt counted. */
  private readonly ready = new Deque<{ job: Job; task: SegmentTask }>();
  private readonly wakeup = new Wakeup();
  private readonly log: Logger;
  private readonly results: SubmitResultHandling;
  private loop: Promise<void> | undefined;
  private references: number;
  jobs = 0;

  constructor(
    private readonly route: RouteConfig,
    private readonly throttle: RouteThrottle,
    private readonly deps: DispatcherDeps,
    private readonly signal: AbortSignal,
  ) {
    this.log = deps.logger.child({ route: route.name });
    this.results = new SubmitResultHandling({
      route,
      throttle,
      deps,
      signal,
      log: this.log,
      ready: this.ready,
      wakeup: this.wakeup,
      finish: (job, status, error) => this.finish(job, status, error),
    });
    this.references = Math.floor((deps.random ?? Math.random)() * 0x10000);
  }

  enqueue(job: DispatchJob): void {
    const from = job.message.from ?? defaultFromOf(this.route) ?? '';
    const j: Job = {
      message: job.message,
      from,
      priorAttempts: job.priorAttempts,
      accepted: new Set(job.acceptedSegments),
      answerTo: job.answerTo,
      smsc: undefined,
      segments: [],
      total: 0,
      inFlight: 0,
      finished: false,
    };
    this.jobs++;
    this.waiting.push(j);
    this.wakeup.notify();
  }

  wake(): void {
    this.wakeup.notify();
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.log.error({ err }, 'route dispatcher stopped by an unexpected error');
    });
  }

  async stopped(): Promise<void> {
    this.wakeup.notify();
    this.results.cancelRetries();
    await this.loop;
  }

  /** Jobs prepared but none of whose segments ever left: their attempt can be taken back. */
  unsentJobIds(): string[] {
    const ids = new Set<string>();
    for (const { job } of this.ready.drain()) {
      if (!job.finished && job.segments.every((s) => s.sent === 0)) ids.add(job.message.id);
    }
    return [...ids];
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      if (this.deps.canServe && !this.deps.canServe(this.route) && (this.waiting.size > 0 || this.ready.length > 0)) {
        if (!(await this.handBackAll())) await this.wakeup.wait(NO_BIND_WAIT_MS, this.signal);
        continue;
      }
      // The next batch is planned and counted while this one is still being sent, so the window
      // never drains while the attempt ledger is written.
      if (this.preparing === undefined && this.ready.length < this.lowWater() && this.waiting.size > 0) {
        // Only a batch that readied segments wakes the loop. A preparation that found nothing to do
        // (paused, no SMSC) ends at once, and waking the send that had just gone to sleep for the
        // same reason made the loop spin on microtasks without ever yielding to the event loop.
        this.preparing = this.prepareBatch().then(
          (readied) => {
            this.preparing = undefined;
            if (readied) this.wakeup.notify();
            return readied;
          },
          (err: unknown) => {
            this.preparing = undefined;
            throw err;
          },
        );
      }
      const item = this.ready.shift();
      if (item) {
        await this.send(item.job, item.task);
        continue;
      }
      if (this.preparing !== undefined) {
        if (!(await this.preparing)) await this.wakeup.wait(NO_BIND_WAIT_MS, this.signal);
        continue;
      }
      await this.wakeup.wait(NO_BIND_WAIT_MS, this.signal);
    }
    await this.preparing;
  }

  private preparing: Promise<boolean> | undefined;

  /** About 200 ms of the route's rate: big enough to batch, small enough to keep priority responsive. */
  private batchSize(): number {
    return Math.max(1, Math.min(500, Math.ceil(this.throttle.currentRate / 5)));
  }

  private lowWater(): number {
    return Math.max(1, Math.floor(this.batchSize() / 2));
  }

  /**
   * Hands back every message none of whose segments left (their attempt taken back first, so the
   * daemon that claims them does not flag them as possible duplicates). Messages with a segment
   * out stay: their results are recorded here.
   */
  private async handBackAll(): Promise<boolean> {
    if (this.preparing !== undefined) await this.preparing;
    const keep: { job: Job; task: SegmentTask }[] = [];
    const attempted = new Map<string, Job>();
    for (const item of this.ready.drain()) {
      const { job } = item;
      if (!job.finished && untouched(job)) attempted.set(job.message.id, job);
      else keep.push(item);
    }
    for (const item of keep) this.ready.push(item);
    const waiting = this.waiting.take(Number.MAX_SAFE_INTEGER);
    const attemptedJobs = [...attempted.values()];
    try {
      if (attemptedJobs.length > 0) await this.deps.attempts.unmarkAttempted(attemptedJobs.map((j) => j.message.id));
      const all = [...waiting, ...attemptedJobs];
      await this.deps.handBack!(all.map((j) => j.message.id));
      for (const job of all) {
        job.finished = true;
        this.jobs--;
      }
      if (all.length > 0) this.log.info({ messages: all.length }, 'no bind lease for this route here: messages handed back for a daemon that has one');
      return true;
    } catch (err) {
      this.log.warn({ err, messages: waiting.length + attemptedJobs.length }, 'handing messages back failed; will retry');
      // Planned again (and their attempt counted again) when taken up next.
      this.waiting.putBack([...attemptedJobs, ...waiting]);
      return false;
    }
  }

  /** The route's first SMSC that can take a submit now (bound, and not paused). */
  private chooseSmsc(): string | undefined {
    for (const name of this.route.smscs) if (this.usable(name)) return name;
    return undefined;
  }

  private usable(smsc: string): boolean {
    return this.deps.smscs.get(smsc)?.link.canSubmit === true && this.deps.controls?.smscPaused(smsc) !== true;
  }

  private paused(): boolean {
    return this.deps.controls?.routePaused(this.route.name) === true;
  }

  /** Takes the next batch of waiting messages, plans their segments and counts their attempt in one write. */
  private async prepareBatch(): Promise<boolean> {
    if (this.paused()) return false;
    const smsc = this.chooseSmsc();
    if (smsc === undefined) return false;
    const jobs = this.waiting.take(this.batchSize());
    if (jobs.length === 0) return false;
    const prepared: Job[] = [];
    for (const job of jobs) {
      if (this.deps.controls?.cancelled(job.message.id) === true) {
        // Already failed (cancelled) in Postgres: this records nothing new.
        this.finish(job, 'failed', { errorCode: 'cancelled' });
        continue;
      }
      if (expiredUnsent(job)) {
        this.finish(job, 'expired', QUEUE_AGE_ERROR);
        continue;
      }
      if (this.plan(job, smsc)) prepared.push(job);
    }
    try {
      await this.deps.attempts.markAttempted(prepared.map((j) => j.message.id));
    } catch (err) {
      this.log.error({ err, messages: prepared.length }, 'counting dispatch attempts failed; will retry');
      this.waiting.putBack(prepared);
      return false;
    }
    for (const job of prepared) {
      // Every segment accepted in an earlier run (the answers were recorded, the status change
      // was not): nothing to send again, the message is submitted.
      if (job.accepted.size >= job.total) {
        this.finish(job, 'submitted', {});
        continue;
      }
      for (const task of job.segments) {
        if (!job.accepted.has(task.seq)) this.ready.push({ job, task });
      }
    }
    return true;
  }

  /** Splits the message for this SMSC; false (and the message failed) when it cannot be sent. */
  private plan(job: Job, smsc: string): boolean {
    const target = this.deps.smscs.get(smsc)!;
    this.references = (this.references + 1) & 0xffff;
    // The five fields planning reads, not a copy of the whole message: one shape for every call.
    const { to, text, dlr, validitySeconds } = job.message;
    const plan = planSegments({ to, from: job.from, text, dlr, validitySeconds }, target.config, this.references);
    if (!plan.ok) {
      this.finish(job, 'failed', { errorCode: plan.code, errorReason: plan.reason });
      return false;
    }
    job.smsc = smsc;
    job.total = plan.segments.length;
    const uncertain = job.priorAttempts > 0;
    job.segments = plan.segments.map((s: PlannedSegment) => ({
      seq: s.seq,
      total: s.total,
      request: s.request,
      sent: 0,
      uncertain: 0,
      possibleDuplicate: uncertain,
      backoff: undefined,
    }));
    if (uncertain && this.route.uncertainSubmit === 'unknown' && job.accepted.size < job.total) {
      // At-most-once: a message that may already have left is reported, never sent again.
      this.finish(job, 'unknown', {
        errorCode: 'uncertain_submit',
        errorReason: 'the daemon stopped with this message in flight; the route sends at most once',
      });
      return false;
    }
    return true;
  }

  private async send(job: Job, task: SegmentTask): Promise<void> {
    if (job.finished || !job.segments.includes(task)) return;
    if (this.paused()) {
      // Paused while ready: nothing more leaves until it is resumed (the rest of a message whose
      // first parts already left waits too).
      this.ready.unshift({ job, task });
      await this.wakeup.wait(NO_BIND_WAIT_MS, this.signal);
      return;
    }
    if (expiredUnsent(job)) {
      this.finish(job, 'expired', QUEUE_AGE_ERROR);
      return;
    }
    if (this.deps.controls?.cancelled(job.message.id) === true && untouched(job)) {
      this.finish(job, 'failed', { errorCode: 'cancelled' });
      return;
    }
    if (!(await this.throttle.acquire(this.signal))) {
      this.ready.unshift({ job, task });
      return;
    }
    const target = this.deps.smscs.get(job.smsc!)!;
    if (!this.usable(job.smsc!)) {
      const other = this.chooseSmsc();
      if (other !== undefined && untouched(job)) {
        // Nothing of this message has left: fail over and re-split for the other SMSC's settings.
        // The old plan's tasks still queued are recognised as stale and skipped.
        this.log.info({ from: job.smsc, to: other }, 'failing over to the next SMSC of the route');
        if (!this.plan(job, other)) return;
        for (let i = job.segments.length - 1; i >= 0; i--) this.ready.unshift({ job, task: job.segments[i]! });
      } else {
        this.ready.unshift({ job, task });
        await this.wakeup.wait(NO_BIND_WAIT_MS, this.signal);
      }
      return;
    }
    await target.link.waitForWindow();
    const bind = target.link.pickBind();
    if (!bind) {
      this.ready.unshift({ job, task });
      return;
    }
    task.sent++;
    job.inFlight++;
    const started = performance.now();
    if (job.answerTo !== undefined && task.seq === 1 && task.sent === 1) {
      this.deps.observer?.onAnswerOnWire?.(this.route.name, started - job.answerTo);
    }
    const submittedAt = new Date();
    const smsc = target.link.smsc;
    bind
      .submit(task.request)
      // A bind answers failures as values; one that throws is treated as SmscBind treats a submit it
      // could not encode (failed, with the reason), so the message is settled rather than stranded.
      .catch((err: unknown): SubmitResult => ({ kind: 'failed', code: 'encode_failed', reason: `submit threw: ${describeError(err)}` }))
      .then((result) => {
        job.inFlight--;
        this.results.onResult(job, task, smsc, bind.label, submittedAt, classifySubmit(result), performance.now() - started);
      })
      .catch((err: unknown) => this.log.error({ err, id: job.message.id, seq: task.seq }, 'recording a submit result failed'));
  }

  private finish(job: Job, status: MessageStatus, error: { errorCode?: string; errorReason?: string }): void {
    if (job.finished) return;
    job.finished = true;
    this.jobs--;
    this.deps.recorder.recordChange(
      {
        id: job.message.id,
        status,
        previous: 'queued',
        smsc: job.smsc ?? null,
        segments: job.total || null,
        errorCode: error.errorCode ?? null,
        errorReason: error.errorReason ?? null,
        route: this.route.name,
        metadata: job.message.metadata ?? null,
      },
    ).catch((err: unknown) => this.log.error({ err, id: job.message.id, status }, 'recording a final status failed'));
  }
}
