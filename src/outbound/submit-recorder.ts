/**
 * Records what the SMSC answered, in two steps:
 * - the answers themselves (each segment's carrier id or refusal) are written as they arrive, in
 *   short transactions that take no lock: an answer that finds the writer idle is written at the
 *   end of the current turn of the event loop (with whatever came in the same socket read), and
 *   under load the next batch fills while one is written. Once committed, a `kill -9` does not
 *   send that segment again, so the crash window is the submits in flight plus the answers of
 *   one short write (ARCHITECTURE.md "The crash window");
 * - then, in batches, the status changes they cause with the receipts that came early, in one
 *   transaction per batch. Committed changes are handed to `published` (the event stream).
 * A status change is written only after the answers recorded before it, so its transaction sees
 * them (receipt matching relies on it).
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { SegmentRecord } from '../domain/segment.ts';
import type { StatusChange } from '../domain/events.ts';

export interface SubmitStore {
  recordAnswers(segments: readonly SegmentRecord[]): Promise<void>;
  /**
   * `answeredBefore`: messages among `changes` whose answers went through this batch or an earlier
   * one of this recorder (their early receipts were matched then), so they need no lookup of their
   * carrier ids.
   */
  recordSubmits(segments: readonly SegmentRecord[], changes: readonly StatusChange[], answeredBefore: ReadonlySet<string>): Promise<StatusChange[]>;
}

type Item = { readonly segment: SegmentRecord } | { readonly change: StatusChange; readonly answeredBefore: boolean };

/**
 * Most messages whose answers are waiting for their change held in memory; past it the set starts
 * afresh (a message not in it only costs its change a lookup of its carrier ids).
 */
const MAX_TRACKED_ANSWERS = 100_000;

export interface SubmitRecorderOptions {
  store: SubmitStore;
  /** Told of every change committed. */
  published(changes: readonly StatusChange[]): void;
  batchSize: number;
  batchDelayMs: number;
  logger: Logger;
}

export class SubmitRecorder {
  private readonly answers: Batcher<SegmentRecord>;
  private readonly writes: Batcher<Item>;
  /** Resolves once every answer handed over so far is committed (and passed on to `writes`). */
  private answered: Promise<unknown> = Promise.resolve();
  /**
   * Messages whose answers are queued in `writes` and whose change is not yet: a change that
   * finds its message here has its answers in its own batch or an earlier one (FIFO), whose
   * transaction matched the receipts that came early for them. A message sent back to the queue
   * without a change stays until the set is renewed.
   */
  private readonly handedOver = new Set<string>();

  constructor(options: SubmitRecorderOptions) {
    this.writes = new Batcher<Item>({
      // A single-part message is two items (its segment and its change): a batch covers batchSize messages.
      maxItems: options.batchSize * 2,
      maxDelayMs: options.batchDelayMs,
      write: async (items) => {
        const segments: SegmentRecord[] = [];
        const changes: StatusChange[] = [];
        const answeredBefore = new Set<string>();
        for (const item of items) {
          if ('segment' in item) segments.push(item.segment);
          else {
            changes.push(item.change);
            if (item.answeredBefore) answeredBefore.add(item.change.id);
          }
        }
        const applied = await options.store.recordSubmits(segments, changes, answeredBefore);
        if (applied.length > 0) options.published(applied);
      },
      onError: (err, items, attempt) => options.logger.error({ err, items, attempt }, 'recording submit results failed; retrying'),
    });
    this.answers = new Batcher<SegmentRecord>({
      maxItems: options.batchSize,
      maxDelayMs: 0,
      write: async (segments) => {
        await options.store.recordAnswers(segments);
        // Passed on for matching the receipts that came early; committed already. Nobody waits on
        // these items: a write is retried until it lands (lib/batcher.ts).
        if (this.handedOver.size > MAX_TRACKED_ANSWERS) this.handedOver.clear();
        for (const segment of segments) this.handedOver.add(segment.messageId);
        this.writes.addAll(segments.map((segment) => ({ segment })));
      },
      onError: (err, items, attempt) => options.logger.error({ err, items, attempt }, 'recording submit answers failed; retrying'),
    });
  }

  /** Items not yet committed. */
  get pending(): number {
    return this.answers.pending + this.writes.pending;
  }

  recordSegment(segment: SegmentRecord): void {
    this.answered = this.answers.add(segment);
  }

  async recordChange(change: StatusChange): Promise<void> {
    // Answers are written in order, one write at a time: once the latest is in, all are.
    await this.answered;
    const answeredBefore = this.handedOver.delete(change.id);
    await this.writes.add({ change, answeredBefore });
  }

  async flush(): Promise<void> {
    await this.answers.flush();
    await this.writes.flush();
  }
}
