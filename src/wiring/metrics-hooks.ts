/**
 * Gauges read at scrape time rather than updated as things change, so they cost nothing between
 * scrapes: windows in use, throttle tokens, backlogs, stalls, and the ages the alerts watch.
 * A scrape must answer even while Postgres or Redis does not, so each read has a 1 s limit.
 */
import { ParleyError, describeError } from '../lib/errors.ts';
import type { Dispatcher } from '../outbound/dispatcher.ts';
import type { RedisClient } from '../queue/redis.ts';
import { oldestUnreadAgeMs, type OutboundStream } from '../queue/streams.ts';
import type { SmscPool } from '../smpp/smsc-pool.ts';
import type { Db } from '../store/db.ts';
import * as operations from '../store/operations.ts';
import type { DaemonContext } from './context.ts';
import { withTimeout } from './context.ts';
import type { RouteThrottles } from './route-throttles.ts';

export interface ScrapeSources {
  readonly db: Db;
  readonly redis: RedisClient;
  readonly pools: ReadonlyMap<string, SmscPool>;
  readonly throttles: RouteThrottles;
  readonly dispatcher: Pick<Dispatcher, 'backlog'>;
  readonly stream: Pick<OutboundStream, 'backlog'>;
}

const postgresSlow = (): ParleyError => new ParleyError('postgres_slow', 'Postgres did not answer within 1 s');
const redisSlow = (): ParleyError => new ParleyError('redis_slow', 'Redis did not answer within 1 s');

export function registerScrapeHooks(ctx: DaemonContext, s: ScrapeSources): void {
  const { metrics, stalls, log } = ctx;
  metrics.onScrape(async () => {
    for (const pool of s.pools.values()) {
      for (const b of pool.binds) metrics.windowInUse.set({ smsc: b.smsc, bind: b.label }, b.inFlight);
    }
    for (const [route, tokens] of s.throttles.available()) metrics.throttleTokens.set({ route }, tokens);
    metrics.dispatcherBacklog.set(s.dispatcher.backlog);
    for (const st of stalls.report()) {
      metrics.pipelineStalled.set({ pipeline: st.pipeline }, st.stalledMs >= stalls.stallAfterMs ? 1 : 0);
      metrics.pipelineStall.set({ pipeline: st.pipeline }, st.stalledMs / 1000);
    }
    try {
      const backlog = await withTimeout(s.stream.backlog(), 1000, redisSlow);
      metrics.intakeDepth.set(backlog.length);
      metrics.intakePending.set(backlog.pending);
      metrics.intakeLag.set(backlog.lag);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'reading the intake stream for metrics failed');
    }
  });

  // Ages for the alerts: both read shared state (Postgres, the Redis stream), so every daemon
  // reports the same figure, and the intake age grows even while no daemon reads.
  metrics.onScrape(async () => {
    const [queued, unread] = await Promise.allSettled([
      withTimeout(operations.oldestQueuedAgeSeconds(s.db), 1000, postgresSlow),
      withTimeout(oldestUnreadAgeMs(s.redis, ctx.keys), 1000, redisSlow),
    ]);
    if (queued.status === 'fulfilled') metrics.queueOldestAge.set(queued.value);
    else log.warn({ err: describeError(queued.reason) }, 'reading the oldest queued message for metrics failed');
    if (unread.status === 'fulfilled') metrics.intakeOldestUnreadAge.set(unread.value / 1000);
    else log.warn({ err: describeError(unread.reason) }, 'reading the oldest unread stream entry for metrics failed');
  });
}
