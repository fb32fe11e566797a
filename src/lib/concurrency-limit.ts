/**
 * At most `limit` tasks run at once; the others wait their turn, first come first served. One per
 * webhook, so a slow webhook queues only the calls made to it.
 */
import { Deque } from './deque.ts';

export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting = new Deque<() => void>();

  constructor(private limitValue: number) {
    if (!Number.isInteger(limitValue) || limitValue < 1) throw new RangeError(`a concurrency limit must be a positive integer, got ${limitValue}`);
  }

  get limit(): number {
    return this.limitValue;
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A new limit applies as tasks finish (a reload); running tasks are not interrupted. */
  setLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a concurrency limit must be a positive integer, got ${limit}`);
    this.limitValue = limit;
    this.next();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limitValue) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.next();
    }
  }

  /** Hands free slots to waiting tasks (each counted as running before it resumes). */
  private next(): void {
    while (this.running < this.limitValue && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!();
    }
  }
}
