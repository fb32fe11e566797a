/**
 * Capped exponential backoff with full jitter, reset by the owner after a stable success
 * (as fiorix/go-smpp's reconnect loop does).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay: min * 2^attempt, capped, with jitter in [50%, 100%] so peers spread out. */
  next(): number {
    return backoffDelay(this.attempt++, this.minMs, this.maxMs, this.random);
  }

  /** The cap itself, for failures that no quick retry will fix (bad credentials). */
  atCap(): number {
    this.attempt = 31;
    return Math.round(this.maxMs * (0.5 + this.random() / 2));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/**
 * The delay before retry number `attempt` (0 for the first): min * 2^attempt, capped, with jitter in
 * [50%, 100%]. For work whose attempt count is stored rather than held (the webhook outbox).
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}
