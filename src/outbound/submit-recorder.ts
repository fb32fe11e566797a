/**
 * Records what the SMSC answered, in batches: each segment's carrier id (or refusal) and the
 * status changes they cause, in one transaction per batch. Committed changes are handed to
 * `published` (the event stream), which batches on its own.
 *
 * Answers are written as they arrive: an answer that finds the recorder idle is written at the
 * end of the current turn of the event loop (with whatever arrived in the same socket read), not
 * after a batch delay; under load the next batch fills while one is written. An answer not yet
 * committed is lost with a `kill -9` and its message sent again, so this keeps the crash window
 * to the submits in flight plus the one batch being written (ARCHITECTURE.md "The crash window").
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { SegmentRecord, StatusChange } from '../store/messages.ts';

export interface SubmitStore {
  recordSubmits(segments: readonly SegmentRecord[], changes: readonly StatusChange[]): Promise<StatusChange[]>;
}

type Item = { readonly segment: SegmentRecord } | { readonly change: StatusChange };

export interface SubmitRecorderOptions {
  store: SubmitStore;
  /** Told of every change committed. */
  published(changes: readonly StatusChange[]): void;
  batchSize: number;
  logger: Logger;
}

export class SubmitRecorder {
  private readonly writes: Batcher<Item>;

  constructor(options: SubmitRecorderOptions) {
    this.writes = new Batcher<Item>({
      // A single-part message is two items (its segment and its change): a batch covers batchSize messages.
      maxItems: options.batchSize * 2,
      maxDelayMs: 0,
      write: async (items) => {
        const segments: SegmentRecord[] = [];
        const changes: StatusChange[] = [];
        for (const item of items) {
          if ('segment' in item) segments.push(item.segment);
          else changes.push(item.change);
        }
        const applied = await options.store.recordSubmits(segments, changes);
        if (applied.length > 0) options.published(applied);
      },
      onError: (err, items, attempt) => options.logger.error({ err, items, attempt }, 'recording submit results failed; retrying'),
    });
  }

  /** Items not yet committed. */
  get pending(): number {
    return this.writes.pending;
  }

  recordSegment(segment: SegmentRecord): void {
    void this.writes.add({ segment });
  }

  recordChange(change: StatusChange): Promise<void> {
    return this.writes.add({ change });
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }
}
