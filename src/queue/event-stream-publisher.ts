/**
 * Publishes events on a stream, in batches of their own: a Redis hiccup delays events and
 * retries them, and never repeats or blocks a database write. An event Redis refuses for good
 * (poison: it cannot be serialised, or is refused on its own) is found by splitting the batch,
 * logged by type and counted, and the others are published: the record of it stays in Postgres
 * (message_events, replies) and the webhook outbox.
 */
import type { Redis } from 'ioredis';
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { Progress } from '../lib/progress.ts';
import { describeError } from '../lib/errors.ts';
import { publishEvents } from './streams.ts';

export class EventStreamPublisher {
  private readonly batches: Batcher<object>;

  constructor(
    redis: Redis,
    stream: string,
    options: { batchSize: number; batchDelayMs: number; logger: Logger; progress?: Progress; onDropped?(type: string): void },
  ) {
    this.batches = new Batcher<object>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      write: (events) => publishEvents(redis, stream, events),
      onError: (err, items, attempt) =>
        options.logger.warn({ err: describeError(err), items, stream, attempt }, 'publishing events failed; retried, or split to find the one that fails'),
      onPoison: async (event, err) => {
        const type = typeof (event as { type?: unknown }).type === 'string' ? (event as { type: string }).type : 'unknown';
        options.onDropped?.(type);
        options.logger.error({ err: describeError(err), stream, type }, 'an event Redis refuses was not published; its record stays in Postgres');
      },
      progress: options.progress,
    });
  }

  publish(events: readonly object[]): void {
    // A write is retried until it lands, or the event is set aside by onPoison (lib/batcher.ts).
    this.batches.addAll(events);
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }
}
