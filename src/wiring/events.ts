/**
 * The event streams apps read (`events`: status changes; `inbound`: customer messages and rule
 * outcomes), and the one place a committed status change becomes metrics and an event.
 */
import { statusEvent, type StatusEventFacts } from '../domain/events.ts';
import { EventStreamPublisher } from '../queue/event-stream-publisher.ts';
import type { RedisClient } from '../queue/redis.ts';
import type { Component } from '../service.ts';
import type { DaemonContext } from './context.ts';

export interface EventStreams {
  readonly events: EventStreamPublisher;
  readonly inboundEvents: EventStreamPublisher;
  /** Counts committed status changes and publishes them as `message.status` events. */
  published(changes: readonly StatusEventFacts[]): void;
  /** Flushes both streams at stop. */
  readonly component: Component;
}

export function wireEventStreams(ctx: DaemonContext, redis: RedisClient): EventStreams {
  const { config, metrics, keys, stalls, log } = ctx;
  const publisherOptions = { batchSize: config.store.batchSize, batchDelayMs: config.store.batchDelayMs, logger: log };
  const events = new EventStreamPublisher(redis, keys.events, {
    ...publisherOptions,
    progress: stalls.progress('events'),
    onDropped: (type) => metrics.eventsDropped.inc({ stream: 'events', type }),
  });
  const inboundEvents = new EventStreamPublisher(redis, keys.inbound, {
    ...publisherOptions,
    progress: stalls.progress('inbound_events'),
    onDropped: (type) => metrics.eventsDropped.inc({ stream: 'inbound', type }),
  });
  const published = (changes: readonly StatusEventFacts[]): void => {
    const now = new Date();
    // Counted once per route and status of the batch, not once per change.
    const counts = new Map<string, { route: string; status: string; n: number }>();
    for (const c of changes) {
      const route = c.route || 'none';
      const key = `${route}\0${c.status}`;
      const counted = counts.get(key);
      if (counted) counted.n++;
      else counts.set(key, { route, status: c.status, n: 1 });
      // Counted once per message: the flag is set before it leaves queued, which happens once.
      if (c.previous === 'queued' && c.possibleDuplicate) metrics.possibleDuplicates.inc({ route });
      if (c.previous === 'submitted' && c.submittedAt && c.at) {
        metrics.finalReceiptLatency.observe({ route, status: c.status }, (c.at.getTime() - c.submittedAt.getTime()) / 1000);
      }
    }
    for (const { route, status, n } of counts.values()) metrics.statusChanges.inc({ route, status }, n);
    events.publish(changes.map((c) => statusEvent(c, now)));
  };
  return {
    events,
    inboundEvents,
    published,
    component: { name: 'events', stop: async () => Promise.all([events.flush(), inboundEvents.flush()]).then(() => undefined) },
  };
}
