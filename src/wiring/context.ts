/**
 * What every part of the daemon's assembly shares: the config it started with, its identity, the
 * logger and metrics, the stream keys and the stall tracker readiness reads. Built once by
 * `buildDaemon`; the wiring files under `wiring/` take it instead of a dozen loose arguments.
 */
import type { ParleyConfig } from '../config/types.ts';
import type { JobFailure } from '../lib/periodic-job.ts';
import type { Logger } from '../lib/logger.ts';
import type { StallTracker } from '../lib/progress.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StreamKeys } from '../queue/keys.ts';

export interface DaemonContext {
  /** The config as started; what a reload changes is passed where it is read. */
  readonly config: ParleyConfig;
  /** This daemon's stable identity: consumer name, message owner and heartbeat row. */
  readonly consumer: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly keys: StreamKeys;
  /** Every pipeline reports its progress here; readiness names any whose work stopped moving. */
  readonly stalls: StallTracker;
  /** Counts a periodic job's failed run (the job has logged it). */
  countFailure(failure: JobFailure): void;
}

/** The webhooks subscribed to each event type; a reload replaces them while the writers run. */
export interface WebhookSubscriptions {
  status: readonly string[];
  inbound: readonly string[];
}

export function subscriptionsOf(webhooks: ParleyConfig['webhooks']): WebhookSubscriptions {
  return {
    status: webhooks.filter((w) => w.subscribe.includes('message.status')).map((w) => w.name),
    inbound: webhooks.filter((w) => w.subscribe.includes('message.inbound')).map((w) => w.name),
  };
}

/** Resolves with the promise, or rejects with `onTimeout()` when it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
