/**
 * The composition root: the one place where adapters (Postgres, Redis, SMPP binds, HTTP) are
 * built from the config and wired into the flows. Read top to bottom it follows the data:
 * connections -> event streams -> inbound (deliver_sm -> receipt | reply -> rules -> answer |
 * webhook) -> SMSC binds -> outbound (stream -> intake -> route -> throttle -> bind -> store) ->
 * liveness and readiness. Each flow's wiring lives in `wiring/`.
 *
 * Start order matters and stop is its reverse: intake stops first, then sending, then the windows
 * drain and the binds unbind, then the writers flush, and only then do Redis and Postgres close.
 */
import { planReload } from './config/reload-plan.ts';
import type { ParleyConfig } from './config/types.ts';
import { configWarnings } from './config/warnings.ts';
import type { Logger } from './lib/logger.ts';
import type { DependencyMonitor } from './lib/dependency-monitor.ts';
import { StallTracker } from './lib/progress.ts';
import { Metrics } from './observability/metrics.ts';
import { OpsServer } from './observability/http.ts';
import type { Dispatcher } from './outbound/dispatcher.ts';
import type { Intake } from './outbound/intake.ts';
import type { ReceiptRecorder } from './inbound/receipts.ts';
import { RouteBuckets } from './queue/coordination.ts';
import { streamKeys } from './queue/keys.ts';
import { Service, type Component } from './service.ts';
import { RecentCarrierIds } from './domain/recent-carrier-ids.ts';
import type { SmscPool } from './smpp/smsc-pool.ts';
import type { Db } from './store/db.ts';
import { wireApi } from './wiring/api.ts';
import { wireBinds } from './wiring/binds.ts';
import { openConnections, postgresComponent, redisComponent } from './wiring/connections.ts';
import { subscriptionsOf, type DaemonContext } from './wiring/context.ts';
import { wireEventStreams } from './wiring/events.ts';
import { wireInbound } from './wiring/inbound.ts';
import { wireLiveness } from './wiring/liveness.ts';
import { registerScrapeHooks } from './wiring/metrics-hooks.ts';
import { wireOutbound } from './wiring/outbound.ts';
import { wireReadiness } from './wiring/readiness.ts';
import { wireRetention } from './wiring/retention.ts';
import { wirePlannerStatistics } from './wiring/planner-statistics.ts';
import { RouteThrottles } from './wiring/route-throttles.ts';

export interface DaemonOptions {
  readonly logger: Logger;
  /** Postgres schema (tests isolate themselves with one each). */
  readonly schema?: string;
  readonly metrics?: Metrics;
  /** Whether to listen on http.listen (tests usually pass false). */
  readonly http?: boolean;
  /** The clock scheduled sends and quiet hours are judged by (tests stand at a chosen hour). */
  readonly clock?: () => Date;
}

export interface ReloadResult {
  /** What now runs with the new values. */
  readonly applied: readonly string[];
  /** Keys that changed but only take effect at the next start. */
  readonly needsRestart: readonly string[];
}

export interface Daemon {
  readonly service: Service;
  /** Applies a re-read config (SIGHUP) without dropping binds: rules, keywords, templates, webhooks, route TPS. */
  reload(next: ParleyConfig): ReloadResult;
  readonly receipts: ReceiptRecorder;
  readonly db: Db;
  readonly pools: ReadonlyMap<string, SmscPool>;
  readonly dispatcher: Dispatcher;
  readonly intake: Intake;
  readonly metrics: Metrics;
  readonly consumer: string;
  /** Whether Postgres and Redis answer; `/readyz` reads it. */
  readonly dependencies: DependencyMonitor;
  /** Each pipeline's progress; /readyz and parley_pipeline_stalled name the stalled ones. */
  readonly stalls: StallTracker;
  /** The port the ops endpoint listens on, once started with http. */
  readonly httpPort?: number;
  /** The port the HTTP API listens on, once started with api.listen set. */
  readonly apiPort?: number;
}

/** `reject_unauthorized: false` is a choice an operator should see every start, not a silent default. */
export function warnInsecureTls(config: ParleyConfig, log: Logger): void {
  for (const smsc of config.smscs) {
    if (smsc.tls.enabled && !smsc.tls.rejectUnauthorized) {
      log.warn(
        { smsc: smsc.name, host: smsc.host },
        'TLS certificate checks are off for this SMSC (tls.reject_unauthorized: false): anyone between us and it can read and change the traffic',
      );
    }
  }
}

export function buildDaemon(config: ParleyConfig, options: DaemonOptions): Daemon {
  const log = options.logger;
  for (const w of configWarnings(config)) log.warn({ key: w.path }, `config: ${w.message}`);
  warnInsecureTls(config, log);
  const metrics = options.metrics ?? new Metrics();
  const schema = options.schema ?? 'public';
  const ctx: DaemonContext = {
    config,
    // The identity (consumer name, message owner, heartbeat row) is stable across restarts.
    consumer: config.intake.consumer ?? config.daemon.name,
    log,
    metrics,
    keys: streamKeys(config.redis.prefix),
    stalls: new StallTracker(config.health.stallAfterMs),
    countFailure: (f) => metrics.periodicJobFailures.inc({ job: f.job, code: f.code }),
  };
  /** The config in force: a reload replaces numbers, webhooks, route rates and API tokens. */
  let current = config;
  const subscriptions = subscriptionsOf(config.webhooks);

  const conn = openConnections({
    database: config.database,
    redis: config.redis,
    leaseTimeoutMs: config.coordination.leaseTimeoutMs,
    schema,
    consumer: ctx.consumer,
    log,
    onFault: (dependency) => readiness.nudge(dependency),
  });
  const streams = wireEventStreams(ctx, conn.redis);
  // Written by the submit answers, read by the receipts: a receipt for a segment sent lately names it.
  const carrierIds = new RecentCarrierIds();
  const inbound = wireInbound(ctx, {
    db: conn.db,
    pipelineDb: conn.pipelineDb,
    subscriptions,
    published: streams.published,
    inboundEvents: streams.inboundEvents,
    admit: (list) => outbound.intake.admit(list),
    carrierIds,
  });
  const binds = wireBinds(ctx, {
    coordination: conn.coordination,
    onCapacityChange: () => outbound.dispatcher.wake(),
    onInbound: (sm) => inbound.receiver.handle(sm),
  });
  const throttles = new RouteThrottles(ctx, new RouteBuckets(conn.coordination, config.redis.prefix), () => liveness.liveDaemons());
  const outbound = wireOutbound(ctx, {
    db: conn.db,
    pipelineDb: conn.pipelineDb,
    answersDb: conn.answersDb,
    redis: conn.redis,
    blocking: conn.blocking,
    binds,
    throttles,
    subscriptions,
    published: streams.published,
    running: () => current,
    clock: options.clock ?? ((): Date => new Date()),
    carrierIds,
  });
  const readiness = wireReadiness(ctx, { dbProbe: conn.dbProbe, redis: conn.redis, pools: binds.pools, canServe: binds.canServe });
  const liveness = wireLiveness(ctx, {
    db: conn.db,
    heartbeatDb: conn.heartbeatDb,
    intake: outbound.intake,
    dispatcher: outbound.dispatcher,
    servableRoutes: binds.servableRoutes,
    heartbeatsTrusted: readiness.heartbeatsTrusted,
  });
  registerScrapeHooks(ctx, { db: conn.db, redis: conn.redis, pools: binds.pools, throttles, dispatcher: outbound.dispatcher, stream: outbound.stream });
  const retention = wireRetention(ctx, conn.db, conn.redis);
  const plannerStatistics = wirePlannerStatistics(ctx, conn.db);
  const api = config.api.listen ? wireApi(ctx, { db: conn.db, admit: (list) => outbound.intake.admit(list), redisError: conn.redisError }) : undefined;
  const ports: { http?: number; api?: number } = {};

  const components: Component[] = [
    postgresComponent(conn, { schema, pipelinePoolSize: config.database.pipelinePoolSize, log }),
    redisComponent(conn, config.redis, () => outbound.stream.ensureGroup()),
    readiness.component,
    liveness.components.heartbeat,
    streams.component,
    inbound.components.webhookDeliveries,
    inbound.components.receiptSweep,
    inbound.components.receiptRematch,
    inbound.components.receipts,
    inbound.components.replyCapture,
    outbound.components.submitRecorder,
    outbound.components.attemptLedger,
    binds.components.bindLeases,
    binds.components.smscBinds,
    outbound.components.runTimeControls,
    outbound.components.queueAgeSweep,
    { name: 'retention', start: () => retention.start(), stop: () => retention.stop() },
    plannerStatistics,
    outbound.components.dispatcher,
    outbound.components.scheduler,
    liveness.components.recovery,
    inbound.components.replyHandler,
    inbound.components.reassemblySweep,
    outbound.components.intake,
  ];
  if (options.http !== false) {
    const ops = new OpsServer({ scrape: () => metrics.scrape(), contentType: metrics.registry.contentType }, { check: async () => readiness.problems() });
    components.unshift({
      name: 'http',
      start: async () => {
        ports.http = (await ops.listen(config.http.listen.port, config.http.listen.host)).port;
      },
      stop: () => ops.close(),
    });
  }
  const apiListen = config.api.listen;
  if (api && apiListen) {
    // Started last and stopped first: sends over HTTP need intake and the dispatcher running.
    components.push({
      name: 'api',
      start: async () => {
        const addr = await api.listen(apiListen.port, apiListen.host);
        ports.api = addr.port;
        log.info({ listen: `${addr.address}:${addr.port}`, tokens: config.api.tokens.length }, 'HTTP API and agent inbox listening');
      },
      stop: () => api.close(),
    });
  }

  const reload = (next: ParleyConfig): ReloadResult => {
    const plan = planReload(current, next);
    if (plan.numbersAndWebhooks) {
      inbound.reconfigure(next.numbers, next.webhooks);
      Object.assign(subscriptions, subscriptionsOf(next.webhooks));
    }
    for (const r of plan.routeRates) throttles.reconfigure(r.route, r.tps, r.burst);
    if (plan.api) api?.reconfigure(plan.api.tokens, plan.api.rateLimit, plan.api.rateBurst);
    current = plan.running;
    const { applied, needsRestart } = plan;
    log.info({ applied, needsRestart }, needsRestart.length ? 'config reloaded; some changes need a restart' : 'config reloaded');
    metrics.configReloads.inc({ outcome: needsRestart.length ? 'partial' : 'applied' });
    return { applied, needsRestart };
  };

  return {
    service: new Service(components, log, config.shutdown.forceMs),
    reload,
    db: conn.db,
    pools: binds.pools,
    dispatcher: outbound.dispatcher,
    intake: outbound.intake,
    receipts: inbound.receipts,
    metrics,
    consumer: ctx.consumer,
    dependencies: readiness.dependencies,
    stalls: ctx.stalls,
    get httpPort() {
      return ports.http;
    },
    get apiPort() {
      return ports.api;
    },
  };
}
