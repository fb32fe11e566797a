/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Time is passed in
 * (milliseconds, monotonic) so callers can check several buckets at one instant, and tests can
 * drive the clock. The simulator throttles arrivals with it; the route throttle paces submits.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Whether a token is available now (refilling first). */
  available(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Tokens saved up at `now`, fractional. */
  tokensAt(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Milliseconds until a whole token is available (0 when one is). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.ratePerSecond) * 1000;
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  /**
   * Drops what was saved above `max` tokens (down to a debt when negative): a lower rate then takes
   * effect at once instead of after the saved burst.
   */
  spendDownTo(max: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, max);
  }

  take(): void {
    this.tokens -= 1;
  }

  /** New limits; the tokens saved so far are kept, capped at the new burst. */
  reconfigure(ratePerSecond: number, burst: number, now: number): void {
    this.refill(now);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Full again, as after a quiet period. */
  refillFully(now: number): void {
    this.tokens = this.burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.updatedAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
