/**
 * The per-route send rate, in segments per second. The dispatcher calls `acquire` right before
 * each submit_sm (go-smpp's injected RateLimiter); an SMSC that answers ESME_RTHROTTLED or
 * ESME_RMSGQFUL slows the route down and steady acceptance brings it back up, without unbinding.
 * An implementation shared by several daemons (a Redis bucket) can replace this one.
 */
import { sleep } from '../lib/sleep.ts';

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

export class TokenBucket implements RouteThrottle {
  private tokens: number;
  private last: number;
  private factor = 1;
  private lastSlowdown = -Infinity;

  constructor(
    private rate: number,
    private burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  get currentRate(): number {
    return this.rate * this.factor;
  }

  /** Tokens available now (fractional), for metrics. */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.currentRate);
    this.last = t;
  }

  tryAcquire(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  async acquire(signal?: AbortSignal): Promise<boolean> {
    while (!this.tryAcquire()) {
      if (signal?.aborted) return false;
      const waitMs = ((1 - this.tokens) / this.currentRate) * 1000;
      if (!(await sleep(Math.max(1, Math.ceil(waitMs)), signal))) return false;
    }
    return true;
  }

  /** A new rate and burst (a config reload); tokens already earned are kept, up to the new burst. */
  reconfigure(rate: number, burst: number): void {
    this.refill();
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  onThrottled(): void {
    const t = this.now();
    if (t - this.lastSlowdown < SLOWDOWN_INTERVAL_MS) return;
    this.lastSlowdown = t;
    this.refill();
    this.factor = Math.max(MIN_FACTOR, this.factor / 2);
    // Spend what is left so the lower rate takes effect at once instead of after the burst.
    this.tokens = Math.min(this.tokens, 0);
  }

  onAccepted(): void {
    if (this.factor < 1) {
      this.refill();
      this.factor = Math.min(1, this.factor + RECOVERY_STEP);
    }
  }
}
