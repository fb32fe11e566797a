/**
 * Records what the SMSC answered, in batches: each segment's carrier id (or refusal) and the
 * status changes they cause, in one transaction per batch; then the status events, in their own
 * batches, so that a Redis hiccup never repeats a database write.
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { MessageStatusEvent } from '../domain/events.ts';
import type { SegmentRecord, StatusChange } from '../store/messages.ts';

export interface SubmitStore {
  recordSubmits(segments: readonly SegmentRecord[], changes: readonly StatusChange[]): Promise<StatusChange[]>;
}

export interface StatusEventSink {
  publish(events: readonly MessageStatusEvent[]): Promise<void>;
}

/** What an event needs beyond the change itself. */
export interface EventContext {
  readonly route: string | null;
  readonly metadata: Readonly<Record<string, unknown>> | null;
}

type Item =
  | { readonly segment: SegmentRecord }
  | { readonly change: StatusChange; readonly context: EventContext };

export interface SubmitRecorderOptions {
  store: SubmitStore;
  events: StatusEventSink;
  batchSize: number;
  batchDelayMs: number;
  logger: Logger;
}

export function statusEvent(change: StatusChange, context: EventContext, at = new Date()): MessageStatusEvent {
  return {
    type: 'message.status',
    id: change.id,
    status: change.status,
    previous: change.previous,
    segments: change.segments ?? null,
    delivered_segments: 0,
    error: change.errorCode ? { code: change.errorCode, reason: change.errorReason ?? '' } : null,
    smsc: change.smsc ?? null,
    route: context.route,
    at: at.toISOString(),
    metadata: context.metadata,
  };
}

export class SubmitRecorder {
  private readonly writes: Batcher<Item>;
  private readonly eventBatches: Batcher<MessageStatusEvent>;

  constructor(options: SubmitRecorderOptions) {
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
        const contexts = new Map<string, EventContext>();
        for (const item of items) {
          if ('segment' in item) segments.push(item.segment);
          else {
            changes.push(item.change);
            contexts.set(`${item.change.id}\0${item.change.status}`, item.context);
          }
        }
        const applied = await options.store.recordSubmits(segments, changes);
        const now = new Date();
        for (const change of applied) {
          const context = contexts.get(`${change.id}\0${change.status}`) ?? { route: null, metadata: null };
          void this.eventBatches.add(statusEvent(change, context, now));
        }
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

  recordChange(change: StatusChange, context: EventContext): Promise<void> {
    return this.writes.add({ change, context });
  }

  /** Publishes events for changes committed elsewhere (intake's queued and refused messages). */
  publishCommitted(changes: readonly StatusChange[], contextOf: (id: string) => EventContext): void {
    const now = new Date();
    for (const c of changes) void this.eventBatches.add(statusEvent(c, contextOf(c.id), now));
  }

  async flush(): Promise<void> {
    await this.writes.flush();
    await this.eventBatches.flush();
  }
}
