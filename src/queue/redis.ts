/**
 * Redis connections. `queue/` is the only folder that imports ioredis.
 */
import { Redis } from 'ioredis';
import { backoffDelay } from '../lib/backoff.ts';
import { orTimeout } from '../lib/timeout.ts';

export type RedisClient = Redis;

export interface RedisOptions {
  url: string;
  /** Told of connection errors; ioredis reconnects by itself with its own backoff. */
  onError?: (err: Error) => void;
  name?: string;
  /**
   * Commands fail at once while disconnected and after this many milliseconds unanswered, instead
   * of waiting across a reconnect: for coordination (route buckets, bind leases), where a caller
   * has a fallback and a late answer is worth nothing.
   */
  failFastMs?: number;
  /**
   * Longest wait between reconnect attempts (default 5 s). Coordination keeps it short: a daemon
   * on its fallback share must find Redis again soon after it is back, within the grace its peers
   * give it (`REJOIN_GRACE_MS` in outbound/route-throttle.ts).
   */
  reconnectMaxMs?: number;
}

export function openRedis(options: RedisOptions): Redis {
  const redis = new Redis(options.url, {
    connectionName: options.name,
    // Commands wait across a reconnect instead of failing after a few retries: intake and event
    // publishing retry at their own level, and a short Redis restart must not drop work.
    maxRetriesPerRequest: options.failFastMs === undefined ? null : 0,
    enableOfflineQueue: options.failFastMs === undefined,
    commandTimeout: options.failFastMs,
    // Capped (5 s by default; the coordination connection 1 s): after Redis comes back (a restart,
    // a failover) work resumes within seconds.
    retryStrategy: (times) => backoffDelay(times, 100, options.reconnectMaxMs ?? 5_000),
    lazyConnect: false,
  });
  redis.on('error', (err: Error) => options.onError?.(err));
  return redis;
}

/** Quits politely, or disconnects if Redis does not answer within the time. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  // A quit that fails or hangs changes nothing: the connection is dropped below either way.
  await orTimeout(redis.quit().catch(() => undefined), timeoutMs, undefined);
  redis.disconnect();
}

/**
 * Asks Redis for a PING without queueing it: commands wait across reconnects by design, so a
 * health probe on a connection that is not ready fails at once instead of joining the queue.
 */
export async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
  await redis.ping();
}
