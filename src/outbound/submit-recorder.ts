/**
 * Records what the SMSC answered, in batches: each segment's carrier id (or refusal) and the
 * status changes they cause, in one transaction per batch; then the status events, in their own
 * batches, so that a Redis hiccup never repeats a database write.
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import { statusEvent, type MessageStatusEvent } from '../domain/events.ts';
import type { SegmentRecord, StatusChange } from '../store/messages.ts';

export interface SubmitStore {
  recordSubmits(segments: readonly SegmentRecord[], changes: readonly StatusChange[]): Promise<StatusChange[]>;
}

export interface StatusEventSink {
  publish(events: readonly MessageStatusEvent[]): Promise<void>;
}

type Item = { readonly segment: SegmentRecord } | { readonly change: StatusChange };

export interface SubmitRecorderOptions {
  store: SubmitStore;
  events: StatusEventSink;
  batchSize: number;
  batchDelayMs: number;
  logger: Logger;
  /** Told of every change committed (metrics). */
  onApplied?(changes: readonly StatusChange[]): void;
}

export class SubmitRecorder {
  private readonly writes: Batcher<Item>;
  private readonly eventBatches: Batcher<MessageStatusEvent>;

  constructor(private readonly options: SubmitRecorderOptions) {
    const log = options.logger;
    this.eventBatches = new Batcher<MessageStatusEvent>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      write: (events) => options.events.publish(events),
      onError: (err, items, attempt) => log.warn({ err, items, attempt }, 'publishing status events failed; retrying'),
    });
    this.writes = new Batcher<Item>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      write: async (items) => {
        const segments: SegmentRecord[] = [];
        const changes: StatusChange[] = [];
        for (const item of items) {
          if ('segment' in item) segments.push(item.segment);
          else changes.push(item.change);
        }
        this.publishCommitted(await options.store.recordSubmits(segments, changes));
      },
      onError: (err, items, attempt) => log.error({ err, items, attempt }, 'recording submit results failed; retrying'),
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

  /** Publishes events for changes already committed (by this recorder or another writer). */
  publishCommitted(changes: readonly StatusChange[]): void {
    if (changes.length === 0) return;
    this.options.onApplied?.(changes);
    const now = new Date();
    for (const c of changes) void this.eventBatches.add(statusEvent(c, now));
  }

  async flush(): Promise<void> {
    await this.writes.flush();
    await this.eventBatches.flush();
  }
}
