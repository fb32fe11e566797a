/**
 * Sends the webhook outbox: claims due deliveries, POSTs them signed, and records the outcome. A
 * failure is retried with capped exponential backoff until the webhook's max_attempts, then
 * recorded as failed with the last error. One loop, one owner; stops on `stop()`.
 *
 * Each webhook has its own concurrency limit (`webhooks[].concurrency`) and the loop claims, per
 * webhook, only as many deliveries as it has free slots, then goes on claiming as slots free up.
 * Claiming a batch and waiting for all of it let one slow webhook (2 s) hold up every other
 * webhook's events behind it (issue 9).
 */
import type { Logger } from '../lib/logger.ts';
import { sleep } from '../lib/timeout.ts';
import { Backoff, backoffDelay } from '../lib/backoff.ts';
import { describeError } from '../lib/errors.ts';
import { classifyFault } from '../lib/faults.ts';
import type { Progress } from '../lib/progress.ts';
import { toStorableText } from '../domain/storable-text.ts';
import { ConcurrencyLimit } from '../lib/concurrency-limit.ts';
import { postWebhook, type WebhookTarget } from './post.ts';
import type { DueDelivery } from '../domain/webhook-delivery.ts';

export type { DueDelivery };

export interface DeliveryStore {
  /**
   * Up to `free.get(w)` due deliveries of each configured webhook w, and up to `others` of
   * webhooks no longer configured, leased for `leaseMs`.
   */
  claimDue(free: ReadonlyMap<string, number>, others: number, leaseMs: number): Promise<DueDelivery[]>;
  finish(
    id: string,
    outcome: { status: 'delivered' | 'failed' | 'pending'; httpStatus: number | null; error: string | null; retryAt?: Date },
  ): Promise<void>;
}

export interface DeliveryTarget extends WebhookTarget {
  readonly maxAttempts: number;
}

export interface DeliveryObserver {
  onDelivery?(webhook: string, outcome: 'delivered' | 'retry' | 'failed', seconds: number): void;
}

export interface DeliveryWorkerOptions {
  readonly store: DeliveryStore;
  readonly targets: ReadonlyMap<string, DeliveryTarget>;
  readonly logger: Logger;
  readonly observer?: DeliveryObserver;
  readonly pollMs?: number;
  /** Deliveries in flight at once to a webhook whose target sets no `concurrency`. */
  readonly concurrency?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Told of deliveries claimed and finished (health: a stalled outbox). */
  readonly progress?: Progress;
}

/** Deliveries in flight per webhook when neither the target nor the worker says. */
const DEFAULT_CONCURRENCY = 8;
/** Deliveries of webhooks no longer configured claimed at once (each is only marked failed). */
const ORPHANS_AT_ONCE = 8;

export class WebhookDeliveryWorker {
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly log: Logger;

  private targets: ReadonlyMap<string, DeliveryTarget>;
  /** Per webhook name: deliveries in flight at once. */
  private readonly limits = new Map<string, ConcurrencyLimit>();
  /** Deliveries being sent (or finished as failed) now. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Deliveries in flight to webhooks no longer configured. */
  private orphans = 0;
  /** Ends the loop's pause early: a slot was freed. */
  private wake: (() => void) | undefined;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.log = options.logger.child({ component: 'webhooks' });
    this.targets = options.targets;
  }

  /** New webhook URLs, secrets and timeouts apply to the next attempts. */
  setTargets(targets: ReadonlyMap<string, DeliveryTarget>): void {
    this.targets = targets;
    if (targets.size > 0) this.start();
  }

  start(): void {
    if (this.targets.size === 0) return;
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  /** Backoff before attempt n+1: base * 2^(n-1), capped, with jitter. */
  retryDelayMs(attempts: number): number {
    return backoffDelay(attempts - 1, this.options.retryBaseMs ?? 1000, this.options.retryMaxMs ?? 3_600_000);
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const pollMs = this.options.pollMs ?? 500;
    const maxTimeout = (): number => Math.max(1000, ...[...this.targets.values()].map((t) => t.timeoutMs));
    // Postgres down: claims fail until it is back; wait longer each time, up to 5 s.
    const backoff = new Backoff(pollMs, 5_000);
    try {
      while (!signal.aborted) {
        const free = this.freeSlots();
        const others = Math.max(0, ORPHANS_AT_ONCE - this.orphans);
        if (others === 0 && [...free.values()].every((n) => n === 0)) {
          // Every webhook is busy: wait for a slot (or the next poll).
          await this.pause(pollMs, signal);
          continue;
        }
        let due: DueDelivery[] = [];
        try {
          due = await this.options.store.claimDue(free, others, maxTimeout() + 30_000);
          backoff.reset();
        } catch (err) {
          const delay = backoff.next();
          this.log.warn({ err: describeError(err), delayMs: delay }, 'claiming webhook deliveries failed; retrying');
          await sleep(delay, signal);
          continue;
        }
        if (due.length === 0) {
          // Nothing due and nothing in flight: whatever was counted as waiting is done (or was
          // reclaimed and counted again).
          if (this.inFlight.size === 0) this.options.progress?.idle();
          await this.pause(pollMs, signal);
          continue;
        }
        this.options.progress?.waiting(due.length);
        for (const d of due) this.dispatch(d);
      }
    } finally {
      // Deliveries under way finish (each is bounded by its webhook's timeout) and are recorded.
      await Promise.all(this.inFlight);
    }
  }

  /** Free slots of every configured webhook (0 for a busy one, so it is not taken for an orphan). */
  private freeSlots(): Map<string, number> {
    const free = new Map<string, number>();
    for (const target of this.targets.values()) {
      const limit = this.limitFor(target);
      free.set(target.name, Math.max(0, limit.limit - limit.active - limit.queued));
    }
    return free;
  }

  /** The webhook's own limit; a reload's new `concurrency` applies as deliveries finish. */
  private limitFor(target: DeliveryTarget): ConcurrencyLimit {
    const wanted = target.concurrency ?? this.options.concurrency ?? DEFAULT_CONCURRENCY;
    let limit = this.limits.get(target.name);
    if (limit === undefined) this.limits.set(target.name, (limit = new ConcurrencyLimit(wanted)));
    else if (limit.limit !== wanted) limit.setLimit(wanted);
    return limit;
  }

  /** Sends one delivery without waiting for it; its slot wakes the loop when it is free again. */
  private dispatch(d: DueDelivery): void {
    const target = this.targets.get(d.webhook);
    let sent: Promise<void>;
    if (target === undefined) {
      this.orphans++;
      sent = this.deliver(d).finally(() => this.orphans--);
    } else {
      // `run` takes the slot synchronously, so the next claim already counts it.
      sent = this.limitFor(target).run(() => this.deliver(d));
    }
    const tracked: Promise<void> = sent
      .catch((err: unknown) => this.log.error({ err: describeError(err), delivery: d.id }, 'sending a webhook delivery failed unexpectedly; it is tried again after its lease'))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake?.();
      });
    this.inFlight.add(tracked);
  }

  /** Waits `ms`, or less when the worker stops or a slot frees up. */
  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private async deliver(d: DueDelivery): Promise<void> {
    const target = this.targets.get(d.webhook);
    const started = performance.now();
    if (!target) {
      await this.finish(d, { status: 'failed', httpStatus: null, error: `webhook ${d.webhook} is no longer configured` });
      return;
    }
    const result = await postWebhook(target, d.body);
    const seconds = (performance.now() - started) / 1000;
    if (result.ok) {
      this.options.observer?.onDelivery?.(d.webhook, 'delivered', seconds);
      await this.finish(d, { status: 'delivered', httpStatus: result.status, error: null });
      return;
    }
    if (d.attempts >= target.maxAttempts) {
      this.options.observer?.onDelivery?.(d.webhook, 'failed', seconds);
      this.log.warn({ webhook: d.webhook, delivery: d.id, attempts: d.attempts, error: result.error }, 'webhook delivery failed for good');
      await this.finish(d, { status: 'failed', httpStatus: result.status, error: result.error });
      return;
    }
    this.options.observer?.onDelivery?.(d.webhook, 'retry', seconds);
    await this.finish(d, {
      status: 'pending',
      httpStatus: result.status,
      error: result.error,
      retryAt: new Date(Date.now() + this.retryDelayMs(d.attempts)),
    });
  }

  private async finish(d: DueDelivery, outcome: Parameters<DeliveryStore['finish']>[1]): Promise<void> {
    // The error may quote the receiver (a reason from the socket); it must be storable.
    const storable = { ...outcome, error: outcome.error === null ? null : toStorableText(outcome.error).text };
    try {
      await this.options.store.finish(d.id, storable);
      this.options.progress?.advanced(1);
    } catch (firstErr) {
      let err = firstErr;
      if (classifyFault(err) === 'poison') {
        // The outcome itself cannot be stored: the delivery is set aside as failed with the
        // store's reason, rather than POSTed again every lease.
        try {
          await this.options.store.finish(d.id, { status: 'failed', httpStatus: null, error: `its outcome could not be recorded: ${describeError(err)}` });
          this.options.progress?.advanced(1);
          this.log.error({ err: describeError(err), delivery: d.id }, 'a webhook delivery whose outcome cannot be stored was set aside as failed');
          return;
        } catch (again) {
          err = again;
        }
      }
      // The lease runs out and the delivery is tried again: at-least-once, never lost.
      this.log.warn({ err: describeError(err), delivery: d.id }, 'recording a webhook delivery failed');
    }
  }
}
