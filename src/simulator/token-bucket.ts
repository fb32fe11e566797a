/**
 * A token bucket over arrivals: `ratePerSecond` tokens a second, at most `burst` saved up. The
 * simulator checks every bucket that applies before taking from any, so a submit refused by the
 * per-bind limit does not use up the simulator-wide one.
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
