/** What every control command shares: a Postgres or Redis connection of its own, JSON output, the daemons' poll interval. */
import type { ParleyConfig } from '../../config/types.ts';
import type { Db } from '../../store/db.ts';
import type { RedisClient as Redis } from '../../queue/redis.ts';
import { CliFailure, describeRedis, explainDatabaseError, out, within } from '../common.ts';

const REDIS_TIMEOUT_MS = 10_000;
/** How often each daemon reads pauses and cancellations (src/wiring/outbound.ts PAUSES_POLL_MS). */
export const DAEMON_POLL = '1 second';

/** Runs `fn` with a Postgres connection of its own; database errors become actionable failures. */
export async function withDb<T>(config: ParleyConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const { openDb } = await import('../../store/db.ts');
  const db = openDb({ url: config.database.url, poolSize: 2 });
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof CliFailure) throw e;
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
}

export async function withRedis<T>(config: ParleyConfig, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const { openRedis, closeRedis } = await import('../../queue/redis.ts');
  let lastError: Error | undefined;
  const redis = openRedis({ url: config.redis.url, name: 'parley:cli', onError: (e) => (lastError = e) });
  try {
    return await within(fn(redis), REDIS_TIMEOUT_MS, () =>
      `Redis at ${describeRedis(config.redis.url)} did not answer within ${REDIS_TIMEOUT_MS / 1000}s` + (lastError ? ` (${lastError.message})` : ''),
    );
  } finally {
    await closeRedis(redis);
  }
}

export const json = (v: unknown): void => out(JSON.stringify(v, null, 2));
