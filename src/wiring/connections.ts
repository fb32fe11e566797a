/**
 * The connections to Postgres and Redis, each pool sized and named for one job so a busy pipeline
 * cannot starve the heartbeat or the submit answers, and the start-up checks that stop the daemon
 * with a clear reason (unmigrated database, Redis not there) instead of letting it hang.
 */
import type { ParleyConfig } from '../config/types.ts';
import { ParleyError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { closeRedis, openRedis, type RedisClient } from '../queue/redis.ts';
import { warmConnections } from '../store/connection-warmup.ts';
import { openDb, openDbProbe, pendingMigrations, type Db, type DbProbe } from '../store/db.ts';
import type { Component } from '../service.ts';
import { withTimeout } from './context.ts';

/** A daemon on its fallback share finds Redis again within this after it is back (see REJOIN_GRACE_MS). */
const COORDINATION_RECONNECT_MAX_MS = 1000;
const REDIS_START_TIMEOUT_MS = 10_000;

export interface Connections {
  /** The pool of the API, reports and periodic jobs (claims, sweeps, retention, takeover). */
  readonly db: Db;
  /**
   * The pool the message pipelines share (intake, dispatch attempts, submit status changes,
   * receipts, customer messages and their handling): their batches wait for one of a few
   * connections and grow, rather than spread over many backends, and a report or a sweep never
   * takes a connection from them.
   */
  readonly pipelineDb: Db;
  /**
   * The heartbeat's own connection: queued behind this daemon's busy pool it could arrive late
   * enough for the others to declare a live daemon dead and send its messages too.
   */
  readonly heartbeatDb: Db;
  /**
   * The submit answers' own connection: a kill -9 sends again what is answered and not yet
   * committed, so their writes never wait behind transactions queued for the matching lock.
   */
  readonly answersDb: Db;
  /** Probed every second by the dependency monitor, on a connection of its own. */
  readonly dbProbe: DbProbe;
  readonly redis: RedisClient;
  /** Blocking stream reads (intake) hold their connection; they get one of their own. */
  readonly blocking: RedisClient;
  /** Route buckets and bind leases: answers that come late are worth nothing, so fail fast and fall back. */
  readonly coordination: RedisClient;
  /** Told of every Redis connection error: logs it and asks the monitor for a probe. */
  readonly redisError: (err: Error) => void;
}

export interface ConnectionOptions {
  readonly database: ParleyConfig['database'];
  readonly redis: ParleyConfig['redis'];
  readonly leaseTimeoutMs: number;
  readonly schema: string;
  readonly consumer: string;
  readonly log: Logger;
  /** A connection met a fault: probe that dependency now rather than at the next tick. */
  onFault(dependency: 'postgres' | 'redis'): void;
}

export function openConnections(o: ConnectionOptions): Connections {
  const { log, schema } = o;
  const url = o.database.url;
  // What the daemon's four Postgres pools share.
  const poolBase = { url, schema, preparedStatements: o.database.preparedStatements, genericPlans: o.database.genericPlans };
  const poolLost = (err: Error): void => {
    log.warn({ err: err.message, code: (err as { code?: string }).code }, 'postgres connection lost; the pool opens a new one');
    o.onFault('postgres');
  };
  const redisError = (err: Error): void => {
    log.warn({ err: err.message }, 'redis connection error');
    o.onFault('redis');
  };
  return {
    db: openDb({ ...poolBase, poolSize: o.database.poolSize, onIdleError: poolLost }),
    pipelineDb: openDb({ ...poolBase, poolSize: o.database.pipelinePoolSize, onIdleError: poolLost }),
    heartbeatDb: openDb({ ...poolBase, poolSize: 1, onIdleError: (err) => log.warn({ err: err.message }, 'postgres heartbeat connection lost') }),
    answersDb: openDb({ ...poolBase, poolSize: 1, onIdleError: (err) => log.warn({ err: err.message }, 'postgres connection for submit answers lost') }),
    dbProbe: openDbProbe(url),
    redis: openRedis({ url: o.redis.url, name: `parley:${o.consumer}`, onError: redisError }),
    blocking: openRedis({ url: o.redis.url, name: `parley:${o.consumer}:intake`, onError: redisError }),
    coordination: openRedis({
      url: o.redis.url,
      name: `parley:${o.consumer}:coordination`,
      onError: redisError,
      failFastMs: o.leaseTimeoutMs,
      reconnectMaxMs: COORDINATION_RECONNECT_MAX_MS,
    }),
    redisError,
  };
}

function redactedRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Checks at start that every migration ran, then opens the pipelines' connections and the submit
 * answers' (store/connection-warmup.ts) while the other components start: a statement that wants
 * one of them sooner waits for it, which is what it would have done for a new connection anyway.
 * Closes both shared pools last at stop.
 */
export function postgresComponent(c: Connections, o: { schema: string; pipelinePoolSize: number; log: Logger }): Component {
  let warming: Promise<void> = Promise.resolve();
  return {
    name: 'postgres',
    start: async () => {
      const pending = await pendingMigrations(c.db, o.schema);
      if (pending.length > 0) {
        throw new ParleyError('unmigrated_database', `the database has ${pending.length} migration(s) to apply (${pending.join(', ')}): run \`parley migrate\` first`);
      }
      warming = warmPipelineConnections(c, o.pipelinePoolSize, o.log);
    },
    stop: async () => {
      await warming;
      await Promise.all([c.db.destroy(), c.pipelineDb.destroy()]);
    },
  };
}

/** Never rejects: a connection that cannot open now is opened on first use, as after any loss. */
async function warmPipelineConnections(c: Connections, pipelinePoolSize: number, log: Logger): Promise<void> {
  const started = performance.now();
  const warmed = await Promise.all([warmConnections(c.pipelineDb, pipelinePoolSize), warmConnections(c.answersDb, 1)]);
  const errors = warmed.flatMap((w) => w.errors);
  const opened = warmed.reduce((n, w) => n + w.backends.length, 0);
  if (errors.length > 0) log.warn({ err: errors[0]!.message, failed: errors.length, opened }, 'could not open every pipeline connection at start; they open on first use');
  else log.debug({ opened, ms: Math.round(performance.now() - started) }, 'pipeline connections opened');
}

/** Waits (within a limit) for Redis at start, then runs `ready` (the intake group); closes every Redis connection at stop. */
export function redisComponent(c: Connections, config: ParleyConfig['redis'], ready: () => Promise<void>): Component {
  const unreachable = (): ParleyError =>
    new ParleyError('redis_unreachable', `Redis at ${redactedRedisUrl(config.url)} did not answer within ${REDIS_START_TIMEOUT_MS / 1000} s`);
  return {
    name: 'redis',
    start: async () => {
      // Commands wait across reconnects by design; at start-up a Redis that is not there must
      // stop the daemon with a clear reason instead of hanging.
      await withTimeout(c.redis.ping(), REDIS_START_TIMEOUT_MS, unreachable);
      await ready();
      // The coordination connection fails fast rather than queueing: it must be up before the
      // first lease, or every route would start on its fallback share.
      const coordination = c.coordination;
      await withTimeout(
        new Promise<void>((resolve) => (coordination.status === 'ready' ? resolve() : coordination.once('ready', () => resolve()))),
        REDIS_START_TIMEOUT_MS,
        unreachable,
      );
    },
    stop: async () => {
      await Promise.all([closeRedis(c.redis), closeRedis(c.blocking), closeRedis(c.coordination)]);
    },
  };
}
