/**
 * Retention: each table's rows past its `retention.*` age deleted in short batches, and the Redis
 * streams trimmed, by every daemon (SKIP LOCKED lets them share the work).
 */
import { RetentionSweeper, type Retained } from '../operations/retention-sweeper.ts';
import type { RedisClient } from '../queue/redis.ts';
import { EVENT_STREAM_MAX_LEN, trimOutbound, trimToLength } from '../queue/streams.ts';
import type { Db } from '../store/db.ts';
import * as retention from '../store/retention.ts';
import type { DaemonContext } from './context.ts';

export function wireRetention(ctx: DaemonContext, db: Db, redis: RedisClient): RetentionSweeper<retention.RetainedTable> {
  const { keys, metrics } = ctx;
  const r = ctx.config.retention;
  const retained: Retained<retention.RetainedTable>[] = [];
  if (r.messagesMs !== undefined) retained.push({ table: 'messages', olderThanMs: r.messagesMs });
  if (r.receiptsMs !== undefined) retained.push({ table: 'receipts', olderThanMs: r.receiptsMs });
  if (r.repliesMs !== undefined) retained.push({ table: 'replies', olderThanMs: r.repliesMs }, { table: 'inbound_parts', olderThanMs: r.repliesMs });
  if (r.conversationsMs !== undefined) retained.push({ table: 'conversations', olderThanMs: r.conversationsMs });
  if (r.webhookDeliveriesMs !== undefined) retained.push({ table: 'webhook_deliveries', olderThanMs: r.webhookDeliveriesMs });
  return new RetentionSweeper<retention.RetainedTable>(
    {
      tables: retained,
      deleteBatch: (table, olderThanMs, limit) => retention.deleteBatch(db, table, olderThanMs, limit),
      trimStreams: async () => ({
        outbound: await trimOutbound(redis, keys),
        dead: await trimToLength(redis, keys.dead, r.deadLettersMaxLen),
        events: await trimToLength(redis, keys.events, EVENT_STREAM_MAX_LEN),
        inbound: await trimToLength(redis, keys.inbound, EVENT_STREAM_MAX_LEN),
      }),
      logger: ctx.log,
      observer: {
        onDeleted: (table, rows) => metrics.retentionDeleted.inc({ table }, rows),
        onTrimmed: (stream, entries) => metrics.streamTrimmed.inc({ stream }, entries),
        onFailure: ctx.countFailure,
      },
    },
    { batchSize: r.batchSize, pauseMs: r.pauseMs, intervalMs: r.intervalMs },
  );
}
