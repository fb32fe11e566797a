/**
 * The per-route send rate, in segments per second. The dispatcher calls `acquire` right before
 * each submit_sm (go-smpp's injected RateLimiter); an SMSC that answers ESME_RTHROTTLED or
 * ESME_RMSGQFUL slows the route down and steady acceptance brings it back up, without unbinding.
 * An implementation shared by several daemons (a Redis bucket) can replace this one.
 */
import { sleep } from '../lib/sleep.ts';
import { TokenBucket } from '../lib/token-bucket.ts';

export interface RouteThrottle {
  /** Waits for one token; resolves false if the signal aborted first. */
  acquire(signal?: AbortSignal): Promise<boolean>;
  onThrottled(): void;
  onAccepted(): void;
  /** The rate in force now, after any slow-down. */
  readonly currentRate: number;
}

/** Each slow-down halves the rate, at most once per this interval, so one burst of refusals counts once. */
const SLOWDOWN_INTERVAL_MS = 1000;
const MIN_FACTOR = 1 / 64;
/** Each accepted segment restores this share of the configured rate (additive increase). */
const RECOVERY_STEP = 0.01;

/**
 * The route's bucket with its adaptive factor: the configured rate times a factor that halves on
 * each throttling answer (at most once a second) and creeps back on each accepted segment.
 */
export class AdaptiveThrottle implements RouteThrottle {
  private readonly bucket: TokenBucket;
  private factor = 1;
  private lastSlowdown = -Infinity;

  constructor(
    private rate: number,
    private burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(rate, burst, now());
  }

  get currentRate(): number {
    return this.rate * this.factor;
  }

  /** Tokens available now (fractional), for metrics. */
  get available(): number {
    return this.bucket.tokensAt(this.now());
  }

  tryAcquire(): boolean {
    if (!this.bucket.available(this.now())) return false;
    this.bucket.take();
    return true;
  }

  async acquire(signal?: AbortSignal): Promise<boolean> {
    while (!this.tryAcquire()) {
      if (signal?.aborted) return false;
      if (!(await sleep(Math.max(1, Math.ceil(this.bucket.waitMs(this.now()))), signal))) return false;
    }
    return true;
  }

  /** A new configured rate and burst (a config reload); a slow-down in force is kept. */
  reconfigure(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    this.bucket.reconfigure(this.currentRate, burst, this.now());
  }

  onThrottled(): void {
    const t = this.now();
    if (t - this.lastSlowdown < SLOWDOWN_INTERVAL_MS) return;
    this.lastSlowdown = t;
    this.setFactor(Math.max(MIN_FACTOR, this.factor / 2));
    // Spend what is saved so the lower rate takes effect at once instead of after the burst.
    this.bucket.spendDownTo(0, t);
  }

  onAccepted(): void {
    if (this.factor < 1) this.setFactor(Math.min(1, this.factor + RECOVERY_STEP));
  }

  private setFactor(factor: number): void {
    this.factor = factor;
    this.bucket.reconfigure(this.currentRate, this.burst, this.now());
  }
}
