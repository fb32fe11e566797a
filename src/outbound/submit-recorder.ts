/**
 * Records what the SMSC answered, in batches: each segment's carrier id (or refusal) and the
 * status changes they cause, in one transaction per batch. Committed changes are handed to
 * `published` (the event stream), which batches on its own.
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
  batchDelayMs: number;
  logger: Logger;
}

export class SubmitRecorder {
  private readonly writes: Batcher<Item>;

  constructor(options: SubmitRecorderOptions) {
    this.writes = new Batcher<Item>({
      // A single-part message is two items (its segment and its change): a batch covers batchSize messages.
      maxItems: options.batchSize * 2,
      maxDelayMs: options.batchDelayMs,
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

  async recordChange(change: StatusChange): Promise<void> {
    await this.writes.add({ change });
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }
}
