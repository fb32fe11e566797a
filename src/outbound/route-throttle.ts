/**
 * The per-route send rate, in segments per second. The dispatcher calls `acquire` right before
 * each submit_sm (go-smpp's injected RateLimiter); an SMSC that answers ESME_RTHROTTLED or
 * ESME_RMSGQFUL slows the route down and steady acceptance brings it back up, without unbinding.
 * `AdaptiveThrottle` paces one daemon alone; `SharedRouteThrottle` paces all daemons together through
 * a bucket in Redis and falls back to this daemon's share when Redis is out of reach.
 */
import { sleep, withTimeout } from '../lib/timeout.ts';
import { Backoff } from '../lib/backoff.ts';
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

  /** Spends whatever is saved up, so sending starts at the steady rate with no burst. */
  drain(): void {
    this.bucket.spendDownTo(0, this.now());
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

/** The route's bucket shared by every daemon (Redis, `queue/coordination.ts`), as the throttle needs it. */
export interface SharedBucket {
  /** Up to `want` tokens from the bucket of `rate` a second saving up `burst`; `accepted` segments lift a slow-down. */
  lease(rate: number, burst: number, want: number, accepted: number): Promise<{ granted: number; factor: number; waitMs: number }>;
  slowDown(): Promise<number>;
}

export interface SharedThrottleOptions {
  readonly route: string;
  readonly rate: number;
  readonly burst: number;
  readonly bucket: SharedBucket;
  /** Daemons alive now (the heartbeat table), at least 1: the fallback's share is rate ÷ this. */
  liveDaemons(): number;
  /** Told when the throttle leaves or rejoins the shared bucket, with why. */
  onModeChange?(shared: boolean, reason: string): void;
  /** Longest wait for a lease before Redis counts as unreachable. */
  readonly leaseTimeoutMs?: number;
  readonly now?: () => number;
}

/** Leased tokens not spent within this time are dropped, so they never add up to a hidden burst. */
const LEASE_FRESH_MS = 100;
const LEASE_TIMEOUT_MS = 500;
/**
 * How long the fallback runs before Redis is tried again (grows with each failure, capped). The
 * cap is short because peers come back one by one and the grace below must cover the slowest:
 * a probe costs nothing while the connection is down (it fails at once, without a round trip)
 * and runs beside the fallback, never in the way of a send.
 */
const RETRY_SHARED_MIN_MS = 250;
const RETRY_SHARED_MAX_MS = 1000;
/**
 * After coming back to the shared bucket, a daemon keeps to its fallback share as well for this
 * long: peers still on their own share (their probe or their reconnect has not come round yet)
 * spend outside the bucket, and a daemon drawing the whole bucket beside them would put the
 * route above its rate. It covers a peer's reconnect (coordination connection, capped at 1 s), its
 * next probe (at most 1 s) and a probe's timeout (0.5 s), with a margin for a loaded host (the
 * slowest of 3 daemons came back 2.2 s after Redis on a 2-core machine at load 15).
 */
export const REJOIN_GRACE_MS = 5000;

/**
 * One route's rate across every daemon: tokens are leased from the route's Redis bucket a few at a
 * time (about 10 ms of the rate, at most a quarter of the burst), so a segment pays no round trip of its own,
 * and every SMSC throttling answer halves the shared rate for all. While Redis does not answer,
 * the daemon falls back to a local bucket at rate ÷ live daemons and says so through
 * `onModeChange`; it probes Redis again after a capped, jittered backoff, and once back it keeps
 * to its share too for `REJOIN_GRACE_MS`, until every peer has had time to come back.
 */
export class SharedRouteThrottle implements RouteThrottle {
  private leased = 0;
  private leasedAt = 0;
  private accepted = 0;
  private factor = 1;
  private shared = true;
  private retrySharedAt = 0;
  private probing = false;
  private graceUntil = -Infinity;
  private readonly retry: Backoff;
  private readonly fallback: AdaptiveThrottle;
  private fallbackShare = 1;
  private readonly now: () => number;

  constructor(private readonly options: SharedThrottleOptions & { rate: number; burst: number }) {
    this.now = options.now ?? (() => performance.now());
    this.rate = options.rate;
    this.burst = options.burst;
    this.fallback = new AdaptiveThrottle(options.rate, options.burst, this.now);
    this.retry = new Backoff(RETRY_SHARED_MIN_MS, RETRY_SHARED_MAX_MS);
  }

  private rate: number;
  private burst: number;

  /** Whether the shared bucket paces this route now (false: the local fallback). */
  get isShared(): boolean {
    return this.shared;
  }

  /** Whether this daemon, back on the shared bucket, still keeps to its fallback share as well. */
  get inRejoinGrace(): boolean {
    return this.shared && this.now() < this.graceUntil;
  }

  get currentRate(): number {
    if (!this.shared) return this.fallback.currentRate;
    const shared = this.rate * this.factor;
    return this.inRejoinGrace ? Math.min(shared, this.fallback.currentRate) : shared;
  }

  /** Tokens this daemon holds now, for metrics. */
  get available(): number {
    return this.shared ? this.leased : this.fallback.available;
  }

  /** About 10 ms of the rate, at least 1 and at most a quarter of the burst. */
  private leaseSize(): number {
    return Math.max(1, Math.min(Math.floor(this.burst / 4), Math.ceil((this.rate * this.factor) / 100)));
  }

  /**
   * The burst the shared bucket saves up: the configured one less headroom for tokens leased but
   * not yet on the wire (two leases held by daemons, and ~25 ms of the rate for the time between
   * a lease and the write, which an event-loop pause stretches), so the SMSC does not see more
   * than rate + burst in any second. The steady rate is unchanged; only the saved burst shrinks.
   */
  get sharedBurst(): number {
    return Math.max(1, this.burst - 2 * this.leaseSize() - Math.ceil((this.rate * this.factor) / 40));
  }

  async acquire(signal?: AbortSignal): Promise<boolean> {
    // A token of the fallback share taken for this segment (in fallback, or in the rejoin grace).
    let ownShare = false;
    for (;;) {
      if (signal?.aborted) return false;
      const t = this.now();
      if (!this.shared) {
        if (t >= this.retrySharedAt) this.probeShared();
        if (ownShare || this.fallback.tryAcquire()) return true;
        if (!(await sleep(Math.max(1, Math.ceil(this.fallbackWaitMs())), signal))) return false;
        continue;
      }
      if (!ownShare && t < this.graceUntil) {
        if (!this.fallback.tryAcquire()) {
          if (!(await sleep(Math.max(1, Math.ceil(this.fallbackWaitMs())), signal))) return false;
          continue;
        }
        ownShare = true;
      }
      if (this.leased > 0 && t - this.leasedAt < LEASE_FRESH_MS) {
        this.leased--;
        return true;
      }
      this.leased = 0;
      let lease: { granted: number; factor: number; waitMs: number };
      try {
        lease = await this.leaseShared();
      } catch (err) {
        this.enterFallback(err);
        continue;
      }
      if (!this.shared) continue; // a probe or another caller saw Redis fail meanwhile
      this.factor = lease.factor;
      if (lease.granted > 0) {
        this.leased = lease.granted - 1;
        this.leasedAt = this.now();
        return true;
      }
      // Peers drew the bucket down: come back about when enough has refilled, spread a little so
      // daemons do not all wake on the same millisecond.
      const waitMs = Math.max(1, lease.waitMs) * (0.75 + Math.random() / 2);
      if (!(await sleep(Math.ceil(waitMs), signal))) return false;
    }
  }

  private leaseShared(): Promise<{ granted: number; factor: number; waitMs: number }> {
    const accepted = this.accepted;
    this.accepted = 0;
    return withDeadline(this.options.bucket.lease(this.rate, this.sharedBurst, this.leaseSize(), accepted), this.options.leaseTimeoutMs ?? LEASE_TIMEOUT_MS);
  }

  /**
   * Asks the shared bucket for a lease beside the fallback (sends go on at this daemon's share
   * meanwhile): an answer brings the route back to the bucket, in the rejoin grace; a failure
   * schedules the next probe.
   */
  private probeShared(): void {
    if (this.probing) return;
    this.probing = true;
    this.leaseShared().then(
      (lease) => {
        this.probing = false;
        if (this.shared) return;
        this.factor = lease.factor;
        this.leased = lease.granted;
        this.leasedAt = this.now();
        this.leaveFallback();
      },
      (err: unknown) => {
        this.probing = false;
        if (!this.shared) this.retrySharedAt = this.now() + this.retry.next();
        else this.enterFallback(err);
      },
    );
  }

  private fallbackWaitMs(): number {
    const rate = this.fallback.currentRate;
    return rate > 0 ? 1000 / rate : 100;
  }

  private enterFallback(err: unknown): void {
    if (!this.shared) return;
    this.shared = false;
    this.leased = 0;
    this.retrySharedAt = this.now() + this.retry.next();
    const live = Math.max(1, Math.floor(this.options.liveDaemons()));
    this.fallbackShare = live;
    this.fallback.reconfigure(this.rate / live, Math.max(1, Math.floor(this.burst / live)));
    // The shared bucket may have let a saved burst out in this very second: the fallback starts
    // with nothing saved so the two bursts cannot add up at the SMSC.
    this.fallback.drain();
    const reason = err instanceof Error ? err.message : String(err);
    this.options.onModeChange?.(false, `shared bucket unreachable (${reason}); sending at ${this.rate} / ${live} live daemons`);
  }

  private leaveFallback(): void {
    this.shared = true;
    this.graceUntil = this.now() + REJOIN_GRACE_MS;
    this.retry.reset();
    this.options.onModeChange?.(true, `shared bucket reachable again; keeping to ${this.rate} / ${this.fallbackShare} for ${REJOIN_GRACE_MS / 1000} s while peers come back`);
  }

  /** A new configured rate and burst (a config reload); a slow-down in force is kept. */
  reconfigure(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    const live = Math.max(1, this.fallbackShare);
    this.fallback.reconfigure(rate / live, Math.max(1, Math.floor(burst / live)));
  }

  onThrottled(): void {
    // Tokens held here were granted at the old rate: drop them so the slow-down bites at once.
    this.leased = 0;
    this.fallback.onThrottled();
    if (!this.shared) return;
    withDeadline(this.options.bucket.slowDown(), this.options.leaseTimeoutMs ?? LEASE_TIMEOUT_MS).then(
      (factor) => {
        this.factor = factor;
      },
      // The next lease finds Redis gone and switches to the fallback, which has slowed down too.
      () => undefined,
    );
  }

  onAccepted(): void {
    this.accepted++;
    this.fallback.onAccepted();
  }
}

/** Rejects when the promise takes longer than `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(promise, ms, () => new Error(`no answer within ${ms} ms`));
}
