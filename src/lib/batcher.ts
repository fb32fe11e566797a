/**
 * Collects items and writes them in batches: when `maxItems` are waiting or `maxDelayMs` after
 * the first one arrived, whichever comes first. One write runs at a time (or `maxWrites`), so
 * under load the next batch fills while the previous one is written.
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

export interface BatcherOptions<T> {
  maxItems: number;
  maxDelayMs: number;
  /**
   * Adaptive delay: an item that finds a write free (nothing being written, or fewer batches than
   * `maxWrites`) is written at the end of this turn of the event loop, with whatever else arrived
   * in it, instead of after `maxDelayMs`; under load the next batch fills while one is written, as
   * always. For pipelines whose latency someone waits on (a deliver_sm answered after its commit).
   * Default false.
   */
  flushWhenIdle?: boolean;
  /**
   * Batches written at once (default 1). For a pipeline whose peer waits on each commit with a
   * window of requests (deliver_sm answered after its commit): with one write at a time, the
   * window's next requests wait for the batch before theirs to commit before theirs can start.
   */
  maxWrites?: number;
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
  /** Where the batch delay and the retry waits are timed; the process's timers unless a test says otherwise. */
  timers?: BatcherTimers;
}

/** The timers a Batcher waits on (injectable so tests run on fake time). */
export interface BatcherTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Looked up at each call, so vi.useFakeTimers() installed after construction still applies.
const PROCESS_TIMERS: BatcherTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How an item left the batcher. */
export type BatchedOutcome = 'written' | 'set_aside';

const NOBODY_WAITS = (): void => {};

interface Waiting<T> {
  item: T;
  done: (outcome: BatchedOutcome) => void;
}

export class Batcher<T> {
  private queue: Waiting<T>[] = [];
  private timer: unknown;
  private immediate: NodeJS.Immediate | undefined;
  /** The writes running now (at most maxWrites). */
  private readonly writing = new Set<Promise<void>>();
  private readonly backoff: Backoff;
  private readonly timers: BatcherTimers;

  constructor(private readonly options: BatcherOptions<T>) {
    this.backoff = new Backoff(options.retryMinMs ?? 100, options.retryMaxMs ?? 5_000);
    this.timers = options.timers ?? PROCESS_TIMERS;
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
      this.schedule();
    });
  }

  /**
   * Queues items and resolves once every one of them is written or set aside: one promise for the
   * group instead of one per item (a batch of a dispatcher's messages waits for their attempt count).
   */
  addEach(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = items.length;
      this.enqueue(items, () => {
        if (--left === 0) resolve();
      });
    });
  }

  /**
   * Queues items whose outcome nobody waits on (a publisher whose failures are logged and counted
   * by its own onError/onPoison): no promise per item.
   */
  addAll(items: readonly T[]): void {
    if (items.length === 0) return;
    this.enqueue(items, NOBODY_WAITS);
  }

  /** Queues items that share one outcome callback. */
  private enqueue(items: readonly T[], done: (outcome: BatchedOutcome) => void): void {
    for (const item of items) this.queue.push({ item, done });
    this.options.progress?.waiting(items.length);
    this.schedule();
  }

  private schedule(): void {
    if (this.queue.length >= this.options.maxItems) this.kick();
    else if (this.busy || this.timer !== undefined || this.immediate) return;
    else if (this.options.flushWhenIdle) this.immediate = setImmediate(() => this.kick());
    else this.timer = this.timers.setTimeout(() => this.kick(), this.options.maxDelayMs);
  }

  /** Writes everything queued now and resolves when all of it is written. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing.size > 0) {
      this.kick();
      await Promise.all(this.writing);
    }
  }

  /** Every write slot taken: what arrives now waits for one to finish. */
  private get busy(): boolean {
    return this.writing.size >= (this.options.maxWrites ?? 1);
  }

  private kick(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    while (!this.busy && this.queue.length > 0) {
      const write: Promise<void> = this.drain().finally(() => {
        this.writing.delete(write);
        if (this.queue.length > 0) this.kick();
      });
      this.writing.add(write);
    }
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxItems);
    this.inFlight += batch.length;
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
          await new Promise<void>((r) => this.timers.setTimeout(r, this.backoff.next()));
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
