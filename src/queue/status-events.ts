/**
 * Publishes committed status changes on the events stream, in batches of their own: a Redis
 * hiccup delays events and retries them, and never repeats or blocks a database write.
 */
import type { Redis } from 'ioredis';
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import { statusEvent, type MessageStatusEvent, type StatusEventFacts } from '../domain/events.ts';
import { publishEvents } from './streams.ts';

export class StatusEventPublisher {
  private readonly batches: Batcher<MessageStatusEvent>;

  constructor(redis: Redis, stream: string, options: { batchSize: number; batchDelayMs: number; logger: Logger }) {
    this.batches = new Batcher<MessageStatusEvent>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      write: (events) => publishEvents(redis, stream, events),
      onError: (err, items, attempt) => options.logger.warn({ err, items, attempt }, 'publishing status events failed; retrying'),
    });
  }

  publish(changes: readonly StatusEventFacts[]): void {
    const now = new Date();
    for (const c of changes) void this.batches.add(statusEvent(c, now));
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }
}
