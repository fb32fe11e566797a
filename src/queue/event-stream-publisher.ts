/**
 * Publishes events on a stream, in batches of their own: a Redis hiccup delays events and
 * retries them, and never repeats or blocks a database write.
 */
import type { Redis } from 'ioredis';
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import { publishEvents } from './streams.ts';

export class EventStreamPublisher {
  private readonly batches: Batcher<object>;

  constructor(redis: Redis, stream: string, options: { batchSize: number; batchDelayMs: number; logger: Logger }) {
    this.batches = new Batcher<object>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      write: (events) => publishEvents(redis, stream, events),
      onError: (err, items, attempt) => options.logger.warn({ err, items, stream, attempt }, 'publishing events failed; retrying'),
    });
  }

  publish(events: readonly object[]): void {
    for (const e of events) void this.batches.add(e);
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }
}
