/**
 * Sends the webhook outbox: claims due deliveries, POSTs them signed, and records the outcome. A
 * failure is retried with capped exponential backoff until the webhook's max_attempts, then
 * recorded as failed with the last error. One loop, one owner; stops on `stop()`.
 */
import type { Logger } from '../lib/logger.ts';
import { sleep } from '../lib/sleep.ts';
import { Backoff } from '../lib/backoff.ts';
import { describeError } from '../lib/errors.ts';
import { classifyFault } from '../lib/faults.ts';
import type { Progress } from '../lib/progress.ts';
import { toStorableText } from '../domain/storable-text.ts';
import { postWebhook, type WebhookTarget } from './post.ts';
import type { DueDelivery } from '../store/webhooks.ts';

export type { DueDelivery };

export interface DeliveryStore {
  claimDue(limit: number, leaseMs: number): Promise<DueDelivery[]>;
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
  readonly concurrency?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Told of deliveries claimed and finished (health: a stalled outbox). */
  readonly progress?: Progress;
}

export class WebhookDeliveryWorker {
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly log: Logger;

  private targets: ReadonlyMap<string, DeliveryTarget>;

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
    const base = this.options.retryBaseMs ?? 1000;
    const cap = this.options.retryMaxMs ?? 3_600_000;
    return Math.round(Math.min(cap, base * 2 ** Math.min(attempts - 1, 30)) * (0.75 + Math.random() / 4));
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const concurrency = this.options.concurrency ?? 8;
    const maxTimeout = (): number => Math.max(1000, ...[...this.targets.values()].map((t) => t.timeoutMs));
    // Postgres down: claims fail until it is back; wait longer each time, up to 5 s.
    const backoff = new Backoff(this.options.pollMs ?? 500, 5_000);
    while (!signal.aborted) {
      let due: DueDelivery[] = [];
      try {
        due = await this.options.store.claimDue(concurrency, maxTimeout() + 30_000);
        backoff.reset();
      } catch (err) {
        const delay = backoff.next();
        this.log.warn({ err: describeError(err), delayMs: delay }, 'claiming webhook deliveries failed; retrying');
        await sleep(delay, signal);
        continue;
      }
      if (due.length === 0) {
        // Nothing due: whatever was counted as waiting is done (or was reclaimed and counted again).
        this.options.progress?.idle();
        await sleep(this.options.pollMs ?? 500, signal);
        continue;
      }
      this.options.progress?.waiting(due.length);
      await Promise.all(due.map((d) => this.deliver(d)));
    }
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
    } catch (err) {
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
