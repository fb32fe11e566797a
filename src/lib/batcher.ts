/**
 * Collects items and writes them in batches: when `maxItems` are waiting or `maxDelayMs` after
 * the first one arrived, whichever comes first. One write runs at a time, so under load the next
 * batch fills while the previous one is written. A failed write is retried with backoff and the
 * items stay queued: what was handed to a Batcher is not lost while the process lives.
 */
import { Backoff } from './backoff.ts';

export interface BatcherOptions<T> {
  maxItems: number;
  maxDelayMs: number;
  write(items: T[]): Promise<void>;
  /** Told of each failed write before it is retried. */
  onError?(err: unknown, items: number, attempt: number): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

interface Waiting<T> {
  item: T;
  done: () => void;
}

export class Batcher<T> {
  private queue: Waiting<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly options: BatcherOptions<T>) {
    this.backoff = new Backoff(options.retryMinMs ?? 100, options.retryMaxMs ?? 5_000);
  }

  /** Items waiting or being written. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  private inFlight = 0;

  /** Queues an item; resolves once it is written. */
  add(item: T): Promise<void> {
    return new Promise((done) => {
      this.queue.push({ item, done });
      if (this.queue.length >= this.options.maxItems) this.kick();
      else if (!this.timer && !this.writing) this.timer = setTimeout(() => this.kick(), this.options.maxDelayMs);
    });
  }

  /** Writes everything queued now and resolves when all of it is written. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) {
      this.kick();
      await this.writing;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxItems);
    this.inFlight = batch.length;
    const items = batch.map((w) => w.item);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.write(items);
        this.backoff.reset();
        break;
      } catch (err) {
        this.options.onError?.(err, items.length, attempt);
        await new Promise((r) => setTimeout(r, this.backoff.next()));
      }
    }
    this.inFlight = 0;
    for (const w of batch) w.done();
  }
}
