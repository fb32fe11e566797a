/**
 * Collects items and writes them in batches: when `maxItems` are waiting or `maxDelayMs` after
 * the first one arrived, whichever comes first. One write runs at a time, so under load the next
 * batch fills while the previous one is written.
 *
 * A failed write is told apart by `classifyFault` (lib/faults.ts):
 * - a transient fault (Postgres or Redis down, a deadlock) is retried with backoff, the same
 *   items, for as long as it takes: what was handed to a Batcher is not lost while the process
 *   lives;
 * - poison (one item the store can never take) splits the batch in halves until the failing
 *   item is alone; that item goes to `onPoison` (the pipeline's set-aside action: a dead letter, a
 *   quarantined row) and everything else is written. So an item behind a poison one waits at most
 *   the splitting of its own batch.
 * Without `onPoison` every failure is retried, as a pipeline that cannot set anything aside must.
 */
import { Backoff } from './backoff.ts';
import { classifyFault, type FaultKind } from './faults.ts';
import type { Progress } from './progress.ts';

export interface BatcherOptions<T> {
  maxItems: number;
  maxDelayMs: number;
  write(items: T[]): Promise<void>;
  /** Told of each failed write before it is retried or split. */
  onError?(err: unknown, items: number, attempt: number): void;
  /**
   * Sets aside one item its write refused as poison, with the error. Must be durable before it
   * resolves; when it throws, it is retried with backoff (the item is not dropped).
   */
  onPoison?(item: T, err: unknown): Promise<void>;
  /** Transient vs poison; `classifyFault` unless a test or a pipeline says otherwise. */
  classify?(err: unknown): FaultKind;
  /** Told of waiting items and of each item written or set aside (health: stalled pipelines). */
  progress?: Progress;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** How an item left the batcher. */
export type BatchedOutcome = 'written' | 'set_aside';

interface Waiting<T> {
  item: T;
  done: (outcome: BatchedOutcome) => void;
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

  /** Queues an item; resolves once it is written, or set aside by `onPoison`. */
  add(item: T): Promise<BatchedOutcome> {
    return new Promise((done) => {
      this.queue.push({ item, done });
      this.options.progress?.waiting(1);
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
    const classify = this.options.classify ?? classifyFault;
    // Chunks still to write, the next on top: splitting pushes the second half, then the first.
    const stack: Waiting<T>[][] = [batch];
    let attempt = 0;
    while (stack.length > 0) {
      const chunk = stack[stack.length - 1]!;
      try {
        await this.options.write(chunk.map((w) => w.item));
        stack.pop();
        this.settle(chunk, 'written');
        this.backoff.reset();
        attempt = 0;
        continue;
      } catch (err) {
        attempt++;
        this.options.onError?.(err, chunk.length, attempt);
        if (!this.options.onPoison || classify(err) === 'transient') {
          await this.pause();
          continue;
        }
        stack.pop();
        attempt = 0;
        if (chunk.length > 1) {
          const half = Math.ceil(chunk.length / 2);
          stack.push(chunk.slice(half), chunk.slice(0, half));
          continue;
        }
        await this.setAside(chunk[0]!, err);
      }
    }
    this.inFlight = 0;
  }

  /** Hands one poison item to `onPoison`, retrying that (never dropping the item) until it is durable. */
  private async setAside(w: Waiting<T>, err: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.onPoison!(w.item, err);
        this.settle([w], 'set_aside');
        this.backoff.reset();
        return;
      } catch (asideErr) {
        this.options.onError?.(asideErr, 1, attempt);
        await this.pause();
      }
    }
  }

  private settle(chunk: readonly Waiting<T>[], outcome: BatchedOutcome): void {
    this.inFlight -= chunk.length;
    this.options.progress?.advanced(chunk.length);
    for (const w of chunk) w.done(outcome);
  }

  private pause(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.backoff.next()));
  }
}
