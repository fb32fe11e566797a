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
import type { FaultKind } from './faults.ts';
import { writeSplittingPoison } from './split-on-poison.ts';
import type { Progress } from './progress.ts';
import { systemClock, type Clock } from './timeout.ts';

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
  /** Time for the retry waits; the system's unless a test drives it. */
  clock?: Clock;
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
    const o = this.options;
    if (!o.onPoison) {
      // Nothing can be set aside: every failure is retried with the same items.
      for (let attempt = 1; ; attempt++) {
        try {
          await o.write(batch.map((w) => w.item));
          this.backoff.reset();
          break;
        } catch (err) {
          o.onError?.(err, batch.length, attempt);
          await (o.clock ?? systemClock).sleep(this.backoff.next());
        }
      }
      this.settle(batch, 'written');
      return;
    }
    const onPoison = o.onPoison;
    await writeSplittingPoison(batch, {
      write: (chunk) => o.write(chunk.map((w) => w.item)),
      onWritten: (chunk) => this.settle(chunk, 'written'),
      setAside: async (w, err) => {
        await onPoison(w.item, err);
        this.settle([w], 'set_aside');
      },
      onError: o.onError,
      classify: o.classify,
      backoff: this.backoff,
    });
  }

  private settle(chunk: readonly Waiting<T>[], outcome: BatchedOutcome): void {
    this.inFlight -= chunk.length;
    this.options.progress?.advanced(chunk.length);
    for (const w of chunk) w.done(outcome);
  }
}
