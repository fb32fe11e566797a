/**
 * The composition root: the one place where adapters (Postgres, Redis, SMPP binds, HTTP) are
 * built from the config and wired into the flows. Start order matters and stop is its reverse:
 * intake stops first, then sending, then the windows drain and the binds unbind, then the
 * writers flush, and only then do Redis and Postgres close.
 */
import os from 'node:os';
import type { ParleyConfig, RouteConfig, SmscConfig } from './config/types.ts';
import { configWarnings } from './config/warnings.ts';
import type { Logger } from './lib/logger.ts';
import { ParleyError, describeError } from './lib/errors.ts';
import { Service, type Component } from './service.ts';
import { openDb, openDbProbe, pendingMigrations, type Db } from './store/db.ts';
import * as messages from './store/messages.ts';
import { openRedis, closeRedis, pingRedis } from './queue/redis.ts';
import { streamKeys } from './queue/keys.ts';
import { EVENT_STREAM_MAX_LEN, OutboundStream, oldestUnreadAgeMs, trimOutbound, trimToLength } from './queue/streams.ts';
import * as operations from './store/operations.ts';
import * as retention from './store/retention.ts';
import { RetentionSweeper, type Retained } from './operations/retention-sweeper.ts';
import { EventStreamPublisher } from './queue/event-stream-publisher.ts';
import * as replyStore from './store/replies.ts';
import * as conversationStore from './store/conversations.ts';
import * as optOutStore from './store/opt-outs.ts';
import * as surveyStore from './store/surveys.ts';
import { ReplyCapture } from './inbound/reply-capture.ts';
import { ReplyHandler } from './inbound/reply-handler.ts';
import { statusEvent } from './domain/events.ts';
import * as receiptStore from './store/receipts.ts';
import * as webhookStore from './store/webhooks.ts';
import { ReceiptRecorder } from './inbound/receipts.ts';
import { InboundReceiver } from './inbound/receiver.ts';
import { WebhookDeliveryWorker } from './webhooks/delivery-worker.ts';
import type { StatusEventFacts } from './domain/events.ts';
import { SmscPool } from './smpp/smsc-pool.ts';
import type { InboundSm, InboundAnswer } from './smpp/smsc-bind.ts';
import { Router } from './outbound/router.ts';
import { SharedRouteThrottle, type RouteThrottle } from './outbound/route-throttle.ts';
import { RouteBuckets, BindLeases } from './queue/coordination.ts';
import { BindQuota } from './smpp/bind-quota.ts';
import { Dispatcher, type DispatchJob } from './outbound/dispatcher.ts';
import { SubmitRecorder } from './outbound/submit-recorder.ts';
import { Intake } from './outbound/intake.ts';
import { Scheduler } from './outbound/scheduler.ts';
import { parseClockTime, type QuietHours } from './outbound/schedule.ts';
import type { RoutedMessage } from './store/messages.ts';
import { Batcher } from './lib/batcher.ts';
import { DependencyMonitor, type DependencyStatus } from './lib/dependency-monitor.ts';
import { StallTracker } from './lib/progress.ts';
import * as quarantineStore from './store/quarantine.ts';
import { Metrics } from './observability/metrics.ts';
import { OpsServer } from './observability/http.ts';
import * as inboxStore from './store/inbox.ts';
import { readMessageTimeline } from './store/timeline.ts';
import { EventStreamReader } from './queue/event-stream-reader.ts';
import { ApiServer } from './api/api-server.ts';
import { withTimeout } from './lib/timeout.ts';

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
  httpPort?: number;
  /** The port the HTTP API listens on, once started with api.listen set. */
  apiPort?: number;
}

/**
 * A daemon is dead when its heartbeat is `daemon.takeover` old; it beats three times in that
 * time, so one slow write does not get it declared dead, and the others look for dead daemons
 * five times in that time, so its work is taken over within about 1.2 × `takeover`.
 */
const HEARTBEATS_PER_TAKEOVER = 3;
const CHECKS_PER_TAKEOVER = 5;
/** How often held messages (send_at, quiet hours) are looked for; an indexed query on few rows. */
const SCHEDULE_POLL_MS = 250;
const RECLAIM_BATCH = 1_000;
/** A receipt pending this long is no early receipt waiting for its answer: it may be a lost copy's. */
const COPY_RECEIPT_AFTER_MS = 5_000;
const REDIS_START_TIMEOUT_MS = 10_000;
/** A reply claimed by a daemon is its own this long; longer than any webhook call and its answer. */
const REPLY_LEASE_MS = 120_000;
/** How often each daemon re-reads the run-time pauses (`parley route|smsc pause`) from Postgres. */
const PAUSES_POLL_MS = 1_000;
/** How often queued messages past their expires_at are looked for in Postgres, and the margin left to the dispatcher. */
const QUEUE_AGE_SWEEP_MS = 2_000;
const QUEUE_AGE_MARGIN_MS = 2_000;

/**
 * Whether a daemon name's holder is this process or a process of this host that no longer runs
 * (killed, and restarted under the same name): the pid tells two live processes apart.
 */
function isThisOrDeadProcess(host: string, pid: number): boolean {
  if (host !== os.hostname()) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: a process of another user runs under that pid, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A number's quiet hours (by the message's sender), else its route's. */
function quietHoursOf(config: ParleyConfig, m: RoutedMessage): QuietHours | undefined {
  const plainAddress = (a: string): string => a.replace(/^\+(?=\d+$)/, '');
  const q =
    config.numbers.find((n) => m.from !== undefined && plainAddress(n.address) === m.from)?.quietHours ??
    config.routes.find((r) => r.name === m.route)?.quietHours;
  if (q === undefined) return undefined;
  return {
    startMinute: parseClockTime(q.start) ?? 0,
    endMinute: parseClockTime(q.end) ?? 0,
    exemptAnswersWithinMs: q.exemptAnswersWithinMs,
    ...(q.timeZone === undefined ? {} : { timeZone: q.timeZone }),
  };
}

function redactedRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** A daemon on its fallback share finds Redis again within this after it is back (see REJOIN_GRACE_MS). */
const COORDINATION_RECONNECT_MAX_MS = 1000;

/** Recovery after a slow-down, per accepted segment, as a share of the configured rate (as AdaptiveThrottle). */
const RECOVERY_STEP = 0.01;
const SLOWDOWN_INTERVAL_MS = 1000;
const MIN_FACTOR = 1 / 64;

/**
 * The route's throttle shared by every daemon: a bucket in Redis, with this daemon's share
 * (rate ÷ live daemons) as the fallback while Redis does not answer.
 */
function throttleFor(
  route: RouteConfig,
  metrics: Metrics,
  buckets: Map<string, SharedRouteThrottle>,
  shared: RouteBuckets,
  liveDaemons: () => number,
  log: Logger,
): RouteThrottle {
  const labels = { route: route.name };
  const bucket = new SharedRouteThrottle({
    route: route.name,
    rate: route.tps,
    burst: route.burst,
    bucket: {
      lease: (rate, burst, want, accepted) => shared.lease(route.name, rate, burst, want, accepted, RECOVERY_STEP),
      slowDown: () => shared.slowDown(route.name, SLOWDOWN_INTERVAL_MS, MIN_FACTOR),
    },
    liveDaemons,
    onModeChange: (isShared, reason) => {
      metrics.throttleShared.set(labels, isShared ? 1 : 0);
      if (isShared) {
        log.info({ route: route.name }, `route throttle: ${reason}`);
      } else {
        metrics.throttleFallbacks.inc(labels);
        log.warn({ route: route.name }, `route throttle: ${reason}`);
      }
      metrics.throttleRate.set(labels, bucket.currentRate);
    },
  });
  buckets.set(route.name, bucket);
  metrics.throttleRate.set(labels, route.tps);
  metrics.throttleShared.set(labels, 1);
  return {
    acquire: async (signal) => {
      const t0 = performance.now();
      const got = await bucket.acquire(signal);
      const waited = performance.now() - t0;
      if (waited > 1) metrics.throttleWait.inc(labels, waited / 1000);
      return got;
    },
    onAccepted: () => bucket.onAccepted(),
    onThrottled: () => {
      bucket.onThrottled();
      metrics.throttleRate.set({ route: route.name }, bucket.currentRate);
    },
    get currentRate() {
      return bucket.currentRate;
    },
  };
}

function poolFor(
  smsc: SmscConfig,
  logger: Logger,
  metrics: Metrics,
  onChange: () => void,
  onInbound: (sm: InboundSm) => Promise<InboundAnswer>,
): SmscPool {
  return new SmscPool({
    smsc: smsc.name,
    mode: smsc.bind,
    binds: smsc.binds,
    host: smsc.host,
    port: smsc.port,
    tls: smsc.tls.enabled ? { caFile: smsc.tls.caFile, servername: smsc.tls.servername, rejectUnauthorized: smsc.tls.rejectUnauthorized } : undefined,
    systemId: smsc.systemId,
    password: smsc.password,
    systemType: smsc.systemType,
    connectTimeoutMs: smsc.connectTimeoutMs,
    timers: {
      windowSize: smsc.window,
      responseTimeoutMs: smsc.responseTimeoutMs,
      enquireLinkIntervalMs: smsc.enquireLinkIntervalMs,
      silentPeerTimeoutMs: Math.round(smsc.enquireLinkIntervalMs * 1.5),
      bindTimeoutMs: smsc.bindTimeoutMs,
      maxPduLength: smsc.maxPduLength,
    },
    reconnectMinMs: smsc.reconnectMinMs,
    reconnectMaxMs: smsc.reconnectMaxMs,
    logger,
    onStateChange: (state, bind) => {
      metrics.setBindState(bind.smsc, bind.label, state);
      onChange();
    },
    onBindFailure: (reason, bind) => metrics.bindFailures.inc({ smsc: bind.smsc, reason }),
    onConnectionLost: (bind) => metrics.bindReconnects.inc({ smsc: bind.smsc }),
    onInbound,
  });
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
  const metrics = options.metrics ?? new Metrics();
  const schema = options.schema ?? 'public';
  // The identity (consumer name, message owner, heartbeat row) is stable across restarts.
  const consumer = config.intake.consumer ?? config.daemon.name;
  const takeoverMs = config.daemon.takeoverMs;
  const keys = streamKeys(config.redis.prefix);
  warnInsecureTls(config, log);

  // Probed every second on connections of their own; a pipeline that meets a fault asks for a
  // probe at once. While Postgres is down every pipeline pauses on its own (each retries its
  // transient faults with backoff); past database.outage_unbind_after the binds are unbound.
  const dbProbe = openDbProbe(config.database.url);
  const dependencies = new DependencyMonitor({
    probes: {
      postgres: () => dbProbe.probe(),
      redis: () => pingRedis(redis),
    },
    onChange: (status) => onDependencyChange(status),
  });
  const db = openDb({
    url: config.database.url,
    poolSize: config.database.poolSize,
    schema,
    onIdleError: (err) => {
      log.warn({ err: err.message, code: (err as { code?: string }).code }, 'postgres connection lost; the pool opens a new one');
      dependencies.nudge('postgres');
    },
  });
  // The heartbeat has a connection of its own: queued behind this daemon's busy pool it could
  // arrive late enough for the others to declare a live daemon dead and send its messages too.
  const heartbeatDb = openDb({
    url: config.database.url,
    poolSize: 1,
    schema,
    onIdleError: (err) => log.warn({ err: err.message }, 'postgres heartbeat connection lost'),
  });
  // So do the submit answers: a kill -9 sends again what is answered and not yet committed, so
  // their writes never wait for a connection behind transactions queued for the matching lock.
  const answersDb = openDb({
    url: config.database.url,
    poolSize: 1,
    schema,
    onIdleError: (err) => log.warn({ err: err.message }, 'postgres connection for submit answers lost'),
  });
  const redisError = (err: Error): void => {
    log.warn({ err: err.message }, 'redis connection error');
    dependencies.nudge('redis');
  };
  const redis = openRedis({ url: config.redis.url, name: `parley:${consumer}`, onError: redisError });
  const blocking = openRedis({ url: config.redis.url, name: `parley:${consumer}:intake`, onError: redisError });
  // Route buckets and bind leases: answers that come late are worth nothing, so fail fast and fall back.
  const coordination = openRedis({
    url: config.redis.url,
    name: `parley:${consumer}:coordination`,
    onError: redisError,
    failFastMs: config.coordination.leaseTimeoutMs,
    reconnectMaxMs: COORDINATION_RECONNECT_MAX_MS,
  });
  const routeBuckets = new RouteBuckets(coordination, config.redis.prefix);
  let liveDaemons = 1;

  const router = new Router(config.routes);
  const buckets = new Map<string, SharedRouteThrottle>();
  const smscConfigs = new Map(config.smscs.map((s) => [s.name, s]));

  // Every pipeline reports its progress here; readiness names any whose work stopped moving.
  const stalls = new StallTracker(config.health.stallAfterMs);
  let statusWebhooks = config.webhooks.filter((w) => w.subscribe.includes('message.status')).map((w) => w.name);
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
  const quarantine = (pdu: quarantineStore.QuarantinedPdu): Promise<void> => quarantineStore.quarantinePdu(db, pdu);
  const published = (changes: readonly StatusEventFacts[]): void => {
    const now = new Date();
    for (const c of changes) {
      const route = c.route || 'none';
      metrics.statusChanges.inc({ route, status: c.status });
      // Counted once per message: the flag is set before it leaves queued, which happens once.
      if (c.previous === 'queued' && c.possibleDuplicate) metrics.possibleDuplicates.inc({ route });
      if (c.previous === 'submitted' && c.submittedAt && c.at) {
        metrics.finalReceiptLatency.observe({ route, status: c.status }, (c.at.getTime() - c.submittedAt.getTime()) / 1000);
      }
    }
    events.publish(changes.map((c) => statusEvent(c, now)));
  };

  const receipts = new ReceiptRecorder({
    store: { storeReceipts: (batch) => receiptStore.storeReceipts(db, batch, statusWebhooks) },
    idFormatOf: (smsc) => smscConfigs.get(smsc)?.idFormat ?? 'auto',
    defaultAlphabetOf: (smsc) => smscConfigs.get(smsc)?.defaultAlphabet ?? 'gsm7',
    publish: published,
    batchSize: config.store.batchSize,
    batchDelayMs: config.store.batchDelayMs,
    logger: log,
    quarantine,
    progress: stalls.progress('receipts'),
    observer: {
      onReceipt: (smsc, state, outcome) => {
        metrics.receipts.inc({ smsc, state });
        if (outcome === 'quarantined') metrics.quarantined.inc({ pipeline: 'receipts' });
      },
      onCommitted: (seconds) => metrics.receiptCommitLatency.observe(seconds),
    },
  });
  let inboundWebhooks = config.webhooks.filter((w) => w.subscribe.includes('message.inbound')).map((w) => w.name);
  // Answers to customers enter the outbound path through intake, like any message.
  let admit: Intake['admit'] = async () => {
    throw new Error('intake not built yet');
  };
  const replyHandler = new ReplyHandler({
    store: {
      claim: (limit, leaseMs) => replyStore.claimReplies(db, limit, leaseMs),
      finishAll: (items) => replyStore.finishReplies(db, items.map((i) => ({ ...i, event: { ...i.event } })), inboundWebhooks),
      joinConversations: (pairs, ttl) => conversationStore.joinForReplies(db, pairs, ttl),
      updateConversation: (id, change) => conversationStore.updateConversation(db, id, change),
      latestOutbounds: (items) => conversationStore.latestOutbounds(db, items),
      blockedPairs: (pairs) => optOutStore.blockedPairs(db, pairs),
      setOptOut: (change) => optOutStore.setOptOut(db, change),
      surveyRuns: (ids) => surveyStore.runsFor(db, ids),
      startSurvey: (run) => surveyStore.startRun(db, run),
      recordSurveyAnswer: (runId, answer, next) => surveyStore.recordAnswer(db, runId, answer, next),
      release: (ids) => replyStore.releaseReplies(db, ids),
      fail: (items) => replyStore.failReplies(db, items),
    },
    progress: stalls.progress('reply_handling'),
    onFailed: () => metrics.repliesFailed.inc(),
    numbers: config.numbers,
    webhooks: new Map(config.webhooks.map((w) => [w.name, w])),
    send: async (answers) => {
      const { rejected } = await admit(
        answers.map((a) => ({
          id: a.id,
          to: a.to,
          from: a.from,
          text: a.text,
          dlr: true,
          priority: 3,
          replyTo: a.replyTo,
          bypassOptOut: a.bypassOptOut,
          answerTo: a.arrivedAt,
          metadata: { reply_to: a.replyTo },
        })),
      );
      for (const r of rejected) log.error({ answer: r.id, code: r.code, reason: r.reason }, 'an answer to a customer could not be sent');
    },
    publish: (event) => inboundEvents.publish([event]),
    conversationTtlSeconds: Math.round(config.conversations.ttlMs / 1000),
    leaseMs: REPLY_LEASE_MS,
    logger: log,
    observer: {
      onReply: (kind, resolved) => metrics.replies.inc({ matched: kind, resolved: String(resolved) }),
      onCompliance: (kind, changed) => metrics.compliance.inc({ kind, changed: String(changed) }),
      onIntent: (intent, handling) => metrics.replyIntents.inc({ intent, handling }),
      onSurveyAnswer: (survey, kind, valid, value) => metrics.surveyAnswers.inc({ survey, kind, valid: String(valid), value: value === null ? '' : String(value) }),
      onWebhook: (webhook, outcome, seconds) => {
        metrics.ruleWebhooks.inc({ webhook, outcome });
        metrics.webhookLatency.observe({ webhook }, seconds);
      },
    },
  });
  const capture = new ReplyCapture({
    store: {
      storeParts: (parts, assemble) => replyStore.storeParts(db, parts, assemble, config.conversations.duplicateWindowMs, REPLY_LEASE_MS),
    },
    defaultAlphabetOf: (smsc) => smscConfigs.get(smsc)?.defaultAlphabet ?? 'gsm7',
    onReplies: (replies, arrivedAt) => replyHandler.take(replies, arrivedAt),
    batchSize: config.store.batchSize,
    batchDelayMs: config.store.batchDelayMs,
    logger: log,
    quarantine,
    progress: stalls.progress('reply_capture'),
    onQuarantined: () => metrics.quarantined.inc({ pipeline: 'replies' }),
  });
  const inbound = new InboundReceiver({
    receipts,
    replies: capture,
    detectReceiptText: (smsc) => smscConfigs.get(smsc)?.detectReceiptText ?? false,
    onClassified: (smsc, kind) => metrics.deliverSms.inc({ smsc, kind }),
    logger: log,
  });
  const releaseIncomplete = async (): Promise<void> => {
    const released = await replyStore.releaseIncomplete(db, config.conversations.reassemblyTimeoutMs, capture.assemble, REPLY_LEASE_MS);
    if (released.length > 0) {
      log.warn({ replies: released.length }, 'customer messages released incomplete after the reassembly timeout');
      replyHandler.take(released, performance.now());
    }
    metrics.reassembliesPending.set(await replyStore.countOpenGroups(db));
  };

  let wakeDispatch = (): void => {};
  const pools = new Map<string, SmscPool>();
  for (const smsc of config.smscs) {
    pools.set(smsc.name, poolFor(smsc, log, metrics, () => wakeDispatch(), (sm) => inbound.handle(sm)));
  }
  const capped = config.smscs.filter((s) => s.maxBinds !== undefined).map((s) => ({ pool: pools.get(s.name)!, maxBinds: s.maxBinds! }));
  const bindQuota = new BindQuota({
    daemon: consumer,
    store: new BindLeases(coordination, config.redis.prefix),
    capped,
    leaseTtlMs: config.coordination.bindLeaseTtlMs,
    graceMs: config.shutdown.graceMs,
    logger: log,
    onRound: (held) => {
      for (const [smsc, n] of held) metrics.bindLeases.set({ smsc }, n);
      wakeDispatch();
    },
  });
  /** Whether this daemon may send on the route: some SMSC of it is uncapped or leased here. */
  const canServe = (route: RouteConfig): boolean => route.smscs.some((s) => bindQuota.holdsAny(s));
  const servableRoutes = (): readonly string[] | undefined =>
    capped.length === 0 ? undefined : config.routes.filter(canServe).map((r) => r.name);

  /** Binds unbound because Postgres has been down too long; released when it answers. */
  let outageTimer: NodeJS.Timeout | undefined;
  let bindsHeld = false;
  /** When Postgres last came back after an outage (0: never down). */
  let postgresBackAt = 0;
  function onDependencyChange(status: DependencyStatus): void {
    metrics.dependencyUp.set({ dependency: status.name }, status.up ? 1 : 0);
    if (!status.up) {
      metrics.dependencyOutages.inc({ dependency: status.name });
      log.error({ dependency: status.name, reason: status.reason }, `${status.name} is down: work that needs it pauses and resumes by itself`);
    } else {
      log.info({ dependency: status.name }, `${status.name} answers again: paused work resumes`);
    }
    if (status.name !== 'postgres') return;
    clearTimeout(outageTimer);
    outageTimer = undefined;
    if (!status.up) {
      outageTimer = setTimeout(() => {
        if (dependencies.status('postgres').up) return;
        bindsHeld = true;
        const reason = `postgres unreachable for more than ${Math.round(config.database.outageUnbindAfterMs / 1000)} s (database.outage_unbind_after): receipts and replies cannot be recorded`;
        for (const pool of pools.values()) pool.hold(reason);
      }, config.database.outageUnbindAfterMs);
      outageTimer.unref();
    } else {
      postgresBackAt = Date.now();
      if (bindsHeld) {
        bindsHeld = false;
        for (const pool of pools.values()) pool.release();
      }
    }
  }

  const recorder = new SubmitRecorder({
    store: {
      recordAnswers: (segments) => messages.recordAnswers(answersDb, segments),
      recordSubmits: (segments, changes) => messages.recordSubmits(db, segments, changes, statusWebhooks),
    },
    published,
    batchSize: config.store.batchSize,
    batchDelayMs: config.store.batchDelayMs,
    logger: log,
  });

  const webhookWorker = new WebhookDeliveryWorker({
    store: {
      claimDue: (free, others, leaseMs) => webhookStore.claimDueDeliveries(db, free, others, leaseMs),
      finish: (id, outcome) => webhookStore.finishDelivery(db, id, outcome),
    },
    targets: new Map(config.webhooks.map((w) => [w.name, w])),
    logger: log,
    progress: stalls.progress('webhook_outbox'),
    observer: {
      onDelivery: (webhook, outcome, seconds) => {
        metrics.webhookDeliveries.inc({ webhook, outcome });
        metrics.webhookLatency.observe({ webhook }, seconds);
      },
    },
  });

  /** Expires overdue messages and counts receipts that matched nothing. */
  const sweep = async (): Promise<void> => {
    for (;;) {
      const changes = await receiptStore.sweepOverdue(db, config.receipts.graceMs, config.receipts.unknownAfterMs, 1000, statusWebhooks);
      published(changes);
      if (changes.length < 1000) break;
    }
    const copies = await receiptStore.matchCopyReceipts(db, COPY_RECEIPT_AFTER_MS, config.receipts.unmatchedHorizonMs, 1000, statusWebhooks);
    published(copies.changes);
    if (copies.matched > 0) log.info({ receipts: copies.matched }, 'matched receipts of copies whose carrier ids were lost with a crash');
    metrics.unmatchedReceipts.set(await receiptStore.countUnmatched(db, config.receipts.unmatchedHorizonMs));
  };

  const attemptBatches = new Batcher<string>({
    maxItems: config.store.batchSize,
    maxDelayMs: config.store.batchDelayMs,
    write: (ids) => messages.markAttempted(db, ids),
    onError: (err, items, attempt) => log.error({ err: describeError(err), items, attempt }, 'counting attempts failed; retrying'),
  });

  // Run-time pauses as last read from Postgres; every daemon polls the same table.
  const paused = { routes: new Set<string>(), smscs: new Set<string>(), cancelled: new Set<string>() };
  const dispatcher = new Dispatcher({
    controls: { routePaused: (route) => paused.routes.has(route), smscPaused: (smsc) => paused.smscs.has(smsc), cancelled: (id) => paused.cancelled.has(id) },
    routes: config.routes,
    smscs: new Map([...pools].map(([name, pool]) => [name, { link: pool, config: smscConfigs.get(name)! }])),
    throttleFor: (route) => throttleFor(route, metrics, buckets, routeBuckets, () => liveDaemons, log),
    canServe: capped.length === 0 ? undefined : canServe,
    handBack: async (ids) => {
      await messages.handBack(db, consumer, ids);
    },
    attempts: {
      markAttempted: async (ids) => {
        await Promise.all(ids.map((id) => attemptBatches.add(id)));
      },
      unmarkAttempted: (ids) => messages.unmarkAttempted(db, ids),
    },
    recorder,
    logger: log,
    observer: {
      onSubmitted: (route, smsc, outcome, status, latencyMs) => {
        metrics.submits.inc({ route, smsc, outcome, status });
        metrics.submitLatency.observe({ smsc }, latencyMs / 1000);
      },
      onAnswerOnWire: (_route, ms) => metrics.autoReplyLatency.observe(ms / 1000),
      onResend: (route, smsc, reason, uncertain) => metrics.submitResends.inc({ route, smsc, reason, uncertain: String(uncertain) }),
      onEmptySmscMessageId: (route, smsc) => metrics.emptySmscMessageIds.inc({ route, smsc }),
    },
  });
  wakeDispatch = () => dispatcher.wake();

  const clock = options.clock ?? ((): Date => new Date());
  const scheduler = new Scheduler({
    quietHoursFor: (m) => quietHoursOf(current, m),
    recentWriters: (pairs, withinMs) => replyStore.recentWriters(db, pairs, withinMs),
    claimDue: (now, limit) => messages.claimDue(db, consumer, now, limit, servableRoutes()),
    enqueue: (jobs) => dispatcher.enqueue(jobs),
    now: clock,
    logger: log,
    pollMs: SCHEDULE_POLL_MS,
    observer: {
      onHeld: (reason) => metrics.messagesHeld.inc({ reason }),
      onReleased: (count) => metrics.messagesReleased.inc(count),
    },
  });

  const outbound = new OutboundStream(redis, blocking, keys, consumer, (detail) => {
    metrics.redisStateLost.inc({ what: 'intake_group' });
    log.warn({ detail }, 'Redis lost state: the intake consumer group was recreated; entries already stored are recognised by their ids and not sent twice');
  });
  const intake = new Intake(
    {
      stream: outbound,
      store: {
        insertMessages: (queued, refused) => messages.insertMessages(db, consumer, queued, refused, { statusWebhooks, conversationTtlSeconds: Math.round(config.conversations.ttlMs / 1000) }),
        storedContent: (ids) => messages.storedContent(db, ids),
      },
      router,
      alphabetFor: (route) => smscConfigs.get(router.route(route)?.smscs[0] ?? '')?.defaultAlphabet ?? 'gsm7',
      dispatcher,
      publishCommitted: published,
      canTake: capped.length === 0 ? undefined : () => config.routes.some(canServe),
      scheduler,
      logger: log,
      progress: stalls.progress('intake'),
      observer: {
        onBatch: (_entries, inserted, duplicates, dead) => {
          metrics.intakeEntries.inc({ result: 'inserted' }, inserted);
          metrics.intakeEntries.inc({ result: 'duplicate' }, duplicates);
          metrics.intakeEntries.inc({ result: 'dead_letter' }, dead);
          metrics.dispatcherBacklog.set(dispatcher.backlog);
        },
        onDeadLetter: (code) => metrics.deadLetters.inc({ code }),
      },
    },
    {
      batchSize: config.intake.batchSize,
      blockMs: config.intake.blockMs,
      claimIdleMs: config.intake.claimIdleMs,
      maxBacklog: Math.max(1000, config.intake.batchSize * 20),
      payloadLimits: { metadata: { maxBytes: config.intake.maxMetadataBytes, maxDepth: config.intake.maxMetadataDepth } },
    },
  );

  /** Claims queued messages nobody live works on and hands them to the dispatcher. */
  const reclaim = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const found = await messages.claimUnfinished(db, consumer, takeoverMs, RECLAIM_BATCH, servableRoutes());
      const jobs: DispatchJob[] = found.map((u) => ({ message: u.message, priorAttempts: u.attempts, acceptedSegments: u.acceptedSegments }));
      dispatcher.enqueue(jobs);
      total += jobs.length;
      if (found.length < RECLAIM_BATCH) return total;
    }
  };

  /**
   * Declares dead the daemons whose heartbeat stopped, takes over the stream entries of those this
   * daemon won (each dead daemon goes to one survivor), then claims every orphaned queued message.
   */
  const takeOver = async (): Promise<void> => {
    for (const dead of await messages.takeOverDead(db, consumer, takeoverMs)) {
      const entries = await intake.takeOver(dead);
      log.warn({ daemon: dead, entries }, 'took over the work of a daemon whose heartbeat stopped');
      metrics.takeovers.inc();
    }
    const count = await reclaim();
    if (count > 0) log.info({ messages: count }, 'claimed queued messages of a stopped daemon');
  };

  admit = (messages) => intake.admit(messages);

  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reassemblyTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let reclaimTimer: NodeJS.Timeout | undefined;
  const ops = new OpsServer({ scrape: () => metrics.scrape(), contentType: metrics.registry.contentType }, {
    check: async () => {
      // From the probes' last answers: a readiness check never waits on a service that is down.
      const problems: string[] = dependencies.problems();
      for (const route of config.routes) {
        // A route whose SMSCs are all leased to other daemons (max_binds) is served by them.
        if (canServe(route) && !route.smscs.some((s) => pools.get(s)?.canSubmit)) problems.push(`route ${route.name}: no bound bind on ${route.smscs.join(', ')}`);
      }
      for (const s of stalls.stalled()) {
        problems.push(`pipeline ${s.pipeline}: no progress for ${Math.round(s.stalledMs / 1000)} s with ${s.pending} item(s) waiting`);
      }
      return problems;
    },
  });

  // Gauges read at scrape time, so they cost nothing between scrapes.
  metrics.onScrape(async () => {
    for (const pool of pools.values()) {
      for (const b of pool.binds) metrics.windowInUse.set({ smsc: b.smsc, bind: b.label }, b.inFlight);
    }
    for (const [route, bucket] of buckets) metrics.throttleTokens.set({ route }, bucket.available);
    metrics.dispatcherBacklog.set(dispatcher.backlog);
    for (const s of stalls.report()) {
      metrics.pipelineStalled.set({ pipeline: s.pipeline }, s.stalledMs >= stalls.stallAfterMs ? 1 : 0);
      metrics.pipelineStall.set({ pipeline: s.pipeline }, s.stalledMs / 1000);
    }
    try {
      // A scrape must answer even while Redis does not.
      const backlog = await withTimeout(outbound.backlog(), 1000, () => new ParleyError('redis_slow', 'Redis did not answer within 1 s'));
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
      withTimeout(operations.oldestQueuedAgeSeconds(db), 1000, () => new ParleyError('postgres_slow', 'Postgres did not answer within 1 s')),
      withTimeout(oldestUnreadAgeMs(redis, keys), 1000, () => new ParleyError('redis_slow', 'Redis did not answer within 1 s')),
    ]);
    if (queued.status === 'fulfilled') metrics.queueOldestAge.set(queued.value);
    else log.warn({ err: describeError(queued.reason) }, 'reading the oldest queued message for metrics failed');
    if (unread.status === 'fulfilled') metrics.intakeOldestUnreadAge.set(unread.value / 1000);
    else log.warn({ err: describeError(unread.reason) }, 'reading the oldest unread stream entry for metrics failed');
  });

  const refreshPauses = async (): Promise<void> => {
    // A message a daemon holds is dropped at the next poll (1 s); ten polls' worth of cancellations
    // is plenty, and keeps this read to the last few seconds of the final_at index.
    paused.cancelled = new Set(await operations.recentlyCancelled(db, 10_000));
    const all = await operations.listPauses(db);
    const routes = new Set(all.filter((p) => p.kind === 'route').map((p) => p.name));
    const smscs = new Set(all.filter((p) => p.kind === 'smsc').map((p) => p.name));
    const same = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
    if (same(routes, paused.routes) && same(smscs, paused.smscs)) return;
    log.info({ routes: [...routes], smscs: [...smscs] }, 'run-time pauses changed');
    paused.routes = routes;
    paused.smscs = smscs;
    dispatcher.wake();
  };
  const expireQueued = async (): Promise<void> => {
    for (;;) {
      const changes = await operations.expireQueued(db, 1000, QUEUE_AGE_MARGIN_MS, statusWebhooks);
      published(changes);
      if (changes.length < 1000) break;
    }
  };
  const retained: Retained<retention.RetainedTable>[] = [];
  const r = config.retention;
  if (r.messagesMs !== undefined) retained.push({ table: 'messages', olderThanMs: r.messagesMs });
  if (r.receiptsMs !== undefined) retained.push({ table: 'receipts', olderThanMs: r.receiptsMs });
  if (r.repliesMs !== undefined) retained.push({ table: 'replies', olderThanMs: r.repliesMs }, { table: 'inbound_parts', olderThanMs: r.repliesMs });
  if (r.conversationsMs !== undefined) retained.push({ table: 'conversations', olderThanMs: r.conversationsMs });
  if (r.webhookDeliveriesMs !== undefined) retained.push({ table: 'webhook_deliveries', olderThanMs: r.webhookDeliveriesMs });
  const sweeper = new RetentionSweeper<retention.RetainedTable>(
    {
      tables: retained,
      deleteBatch: (table, olderThanMs, limit) => retention.deleteBatch(db, table, olderThanMs, limit),
      trimStreams: async () => ({
        outbound: await trimOutbound(redis, keys),
        dead: await trimToLength(redis, keys.dead, r.deadLettersMaxLen),
        events: await trimToLength(redis, keys.events, EVENT_STREAM_MAX_LEN),
        inbound: await trimToLength(redis, keys.inbound, EVENT_STREAM_MAX_LEN),
      }),
      logger: log,
      observer: {
        onDeleted: (table, rows) => metrics.retentionDeleted.inc({ table }, rows),
        onTrimmed: (stream, entries) => metrics.streamTrimmed.inc({ stream }, entries),
      },
    },
    { batchSize: r.batchSize, pauseMs: r.pauseMs, intervalMs: r.intervalMs },
  );
  let pausesTimer: NodeJS.Timeout | undefined;
  let queueAgeTimer: NodeJS.Timeout | undefined;

  let current = config;
  /** Set when the API runs: applies new tokens and rates. */
  let applyApi: ((api: ParleyConfig['api']) => void) | undefined;
  const reload = (next: ParleyConfig): ReloadResult => {
    const applied: string[] = [];
    const needsRestart: string[] = [];
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (!same(current.numbers, next.numbers) || !same(current.webhooks, next.webhooks)) {
      const targets = new Map(next.webhooks.map((w) => [w.name, w]));
      replyHandler.reconfigure(next.numbers, targets);
      webhookWorker.setTargets(targets);
      statusWebhooks = next.webhooks.filter((w) => w.subscribe.includes('message.status')).map((w) => w.name);
      inboundWebhooks = next.webhooks.filter((w) => w.subscribe.includes('message.inbound')).map((w) => w.name);
      applied.push('numbers (compliance, synonyms, rules, unmatched)', 'webhooks');
    }
    const oldRoutes = new Map(current.routes.map((r) => [r.name, r]));
    for (const route of next.routes) {
      const old = oldRoutes.get(route.name);
      oldRoutes.delete(route.name);
      if (!old) {
        needsRestart.push(`routes: ${route.name} is new`);
        continue;
      }
      if (old.tps !== route.tps || old.burst !== route.burst) {
        buckets.get(route.name)?.reconfigure(route.tps, route.burst);
        metrics.throttleRate.set({ route: route.name }, route.tps);
        applied.push(`routes.${route.name}: tps ${route.tps}, burst ${route.burst}`);
      }
      const rest = (r: RouteConfig): unknown => ({ ...r, tps: 0, burst: 0 });
      if (!same(rest(old), rest(route))) needsRestart.push(`routes.${route.name} (prefixes, smscs, default_from, uncertain_submit, uncertain_max_attempts)`);
    }
    for (const gone of oldRoutes.keys()) needsRestart.push(`routes: ${gone} was removed`);
    if (!same(current.api, next.api)) {
      // Tokens and rates apply at once (a token can be rotated or revoked without a restart);
      // another listener, or an API turned on or off, needs one.
      if (applyApi && same(current.api.listen, next.api.listen)) {
        applyApi(next.api);
        applied.push('api (tokens, rate_limit, rate_burst)');
      } else needsRestart.push('api.listen');
    }
    for (const key of ['smscs', 'database', 'redis', 'http', 'log', 'daemon', 'intake', 'store', 'shutdown', 'receipts', 'conversations', 'health'] as const) {
      if (!same(current[key], next[key])) needsRestart.push(key === 'smscs' ? 'smscs (addresses, credentials, binds)' : key);
    }
    // What now runs: the new numbers, webhooks and rates; everything else as started.
    current = {
      ...current,
      api: applyApi && same(current.api.listen, next.api.listen) ? next.api : current.api,
      numbers: next.numbers,
      webhooks: next.webhooks,
      routes: current.routes.map((r) => {
        const n = next.routes.find((x) => x.name === r.name);
        return n ? { ...r, tps: n.tps, burst: n.burst } : r;
      }),
    };
    log.info({ applied, needsRestart }, needsRestart.length ? 'config reloaded; some changes need a restart' : 'config reloaded');
    metrics.configReloads.inc({ outcome: needsRestart.length ? 'partial' : 'applied' });
    return { applied, needsRestart };
  };

  const daemon: Daemon = {
    reload,
    db,
    pools,
    dispatcher,
    intake,
    receipts,
    metrics,
    consumer,
    dependencies,
    stalls,
    service: undefined as unknown as Service,
  };

  const components: Component[] = [
    {
      name: 'postgres',
      start: async () => {
        const pending = await pendingMigrations(db, schema);
        if (pending.length > 0) {
          throw new ParleyError(
            'unmigrated_database',
            `the database has ${pending.length} migration(s) to apply (${pending.join(', ')}): run \`parley migrate\` first`,
          );
        }
      },
      stop: () => db.destroy(),
    },
    {
      name: 'redis',
      start: async () => {
        // Commands wait across reconnects by design; at start-up a Redis that is not there must
        // stop the daemon with a clear reason instead of hanging.
        await withTimeout(redis.ping(), REDIS_START_TIMEOUT_MS, () =>
          new ParleyError('redis_unreachable', `Redis at ${redactedRedisUrl(config.redis.url)} did not answer within ${REDIS_START_TIMEOUT_MS / 1000} s`),
        );
        await outbound.ensureGroup();
        // The coordination connection fails fast rather than queueing: it must be up before the
        // first lease, or every route would start on its fallback share.
        await withTimeout(
          new Promise<void>((resolve) => (coordination.status === 'ready' ? resolve() : coordination.once('ready', () => resolve()))),
          REDIS_START_TIMEOUT_MS,
          () => new ParleyError('redis_unreachable', `Redis at ${redactedRedisUrl(config.redis.url)} did not answer within ${REDIS_START_TIMEOUT_MS / 1000} s`),
        );
      },
      stop: async () => {
        await Promise.all([closeRedis(redis), closeRedis(blocking), closeRedis(coordination)]);
      },
    },
    {
      name: 'dependency-monitor',
      start: async () => {
        for (const name of ['postgres', 'redis'] as const) metrics.dependencyUp.set({ dependency: name }, 1);
        dependencies.start();
      },
      stop: async () => {
        dependencies.stop();
        clearTimeout(outageTimer);
        await dbProbe.close();
      },
    },
    {
      name: 'heartbeat',
      start: async () => {
        const holder = await messages.readDaemon(heartbeatDb, consumer);
        if (holder && holder.heartbeatAgeMs < takeoverMs && !isThisOrDeadProcess(holder.host, holder.pid)) {
          await heartbeatDb.destroy();
          throw new ParleyError(
            'daemon_name_in_use',
            `daemon.name ${JSON.stringify(consumer)} is held by pid ${holder.pid} on ${holder.host} (heartbeat ${Math.round(holder.heartbeatAgeMs)} ms ago): ` +
              `give each daemon its own daemon.name, or stop that process first`,
          );
        }
        // Each daemon's share of a route's rate while Redis is unreachable is rate ÷ live daemons.
        const countLive = async (): Promise<void> => {
          liveDaemons = Math.max(1, await messages.countLiveDaemons(heartbeatDb, takeoverMs));
          metrics.liveDaemons.set(liveDaemons);
        };
        await messages.heartbeat(heartbeatDb, consumer, os.hostname(), process.pid);
        await countLive();
        heartbeatTimer = setInterval(() => {
          messages
            .heartbeat(heartbeatDb, consumer, os.hostname(), process.pid)
            .then((created) => {
              // Declared dead by the others while alive (a heartbeat that could not be written in
              // time): they have taken over its queued messages, some of which this one may send too.
              if (created) log.error({ daemon: consumer }, 'this daemon was declared dead by the others and taken over; check Postgres latency and daemon.takeover');
              return countLive();
            })
            .catch((err: unknown) => {
              log.warn({ err: describeError(err) }, 'heartbeat failed');
            });
        }, Math.max(50, Math.round(takeoverMs / HEARTBEATS_PER_TAKEOVER)));
        heartbeatTimer.unref();
      },
      stop: async () => {
        clearInterval(heartbeatTimer);
        // Gone from the table, this daemon's queued messages can be claimed at once by the next.
        try {
          await messages.removeDaemon(heartbeatDb, consumer);
        } finally {
          await heartbeatDb.destroy();
        }
      },
    },
    { name: 'events', stop: async () => Promise.all([events.flush(), inboundEvents.flush()]).then(() => undefined) },
    { name: 'webhook-deliveries', start: () => webhookWorker.start(), stop: () => webhookWorker.stop() },
    {
      name: 'receipt-sweep',
      start: () => {
        let sweeping = false;
        sweepTimer = setInterval(() => {
          // One sweep at a time: a slow one is not joined by the next.
          if (sweeping) return;
          sweeping = true;
          sweep()
            .catch((err: unknown) => log.warn({ err: describeError(err) }, 'receipt sweep failed'))
            .finally(() => {
              sweeping = false;
            });
        }, config.receipts.sweepIntervalMs);
        sweepTimer.unref();
      },
      stop: () => clearInterval(sweepTimer),
    },
    { name: 'receipts', stop: () => receipts.flush() },
    { name: 'reply-capture', stop: () => capture.flush() },
    { name: 'submit-recorder', stop: () => recorder.flush().finally(() => answersDb.destroy()) },
    { name: 'attempt-ledger', stop: () => attemptBatches.flush() },
    {
      name: 'bind-leases',
      // Capped SMSCs bind only the slots leased here; the leases go back after the binds stopped.
      start: async () => {
        if (capped.length > 0) await bindQuota.start();
      },
      stop: () => bindQuota.stop(),
    },
    {
      name: 'smsc-binds',
      start: () => {
        for (const [name, p] of pools) if (!bindQuota.isCapped(name)) p.start();
      },
      stop: async () => {
        await Promise.all([...pools.values()].map((p) => p.stop(config.shutdown.graceMs)));
      },
    },
    {
      name: 'run-time-controls',
      start: async () => {
        // Read before the dispatcher starts, so a paused route sends nothing even at start-up.
        await refreshPauses();
        pausesTimer = setInterval(() => {
          refreshPauses().catch((err: unknown) => log.warn({ err: describeError(err) }, 'reading the run-time pauses failed'));
        }, PAUSES_POLL_MS);
        pausesTimer.unref();
        queueAgeTimer = setInterval(() => {
          expireQueued().catch((err: unknown) => log.warn({ err: describeError(err) }, 'expiring queued messages past their max queue age failed'));
        }, QUEUE_AGE_SWEEP_MS);
        queueAgeTimer.unref();
      },
      stop: () => {
        clearInterval(pausesTimer);
        clearInterval(queueAgeTimer);
      },
    },
    { name: 'retention', start: () => sweeper.start(), stop: () => sweeper.stop() },
    { name: 'dispatcher', start: () => dispatcher.start(), stop: () => dispatcher.stop() },
    { name: 'scheduler', start: () => scheduler.start(), stop: () => scheduler.stop() },
    {
      name: 'recovery',
      start: async () => {
        await messages.releaseOwned(db, consumer);
        const n = await reclaim();
        if (n > 0) log.info({ messages: n }, 'picked up queued messages from Postgres');
        let checking = false;
        reclaimTimer = setInterval(() => {
          // Right after a Postgres outage every daemon's heartbeat looks stale: wait until the live
          // ones have beaten again, or this daemon would take over (and send again) their work.
          if (!dependencies.status('postgres').up || Date.now() - postgresBackAt < takeoverMs) return;
          if (checking) return;
          checking = true;
          takeOver()
            .catch((err: unknown) => log.warn({ err: describeError(err) }, 'taking over the work of stopped daemons failed'))
            .finally(() => {
              checking = false;
            });
        }, Math.max(20, Math.round(takeoverMs / CHECKS_PER_TAKEOVER)));
        reclaimTimer.unref();
      },
      stop: () => clearInterval(reclaimTimer),
    },
    { name: 'reply-handler', start: () => replyHandler.start(), stop: () => replyHandler.stop() },
    {
      name: 'reassembly-sweep',
      start: () => {
        reassemblyTimer = setInterval(
          () => {
            releaseIncomplete().catch((err: unknown) => log.warn({ err: describeError(err) }, 'releasing incomplete replies failed'));
          },
          Math.min(30_000, Math.max(100, config.conversations.reassemblyTimeoutMs / 4)),
        );
        reassemblyTimer.unref();
      },
      stop: () => clearInterval(reassemblyTimer),
    },
    { name: 'intake', start: () => intake.start(), stop: () => intake.stop() },
  ];
  if (options.http !== false) {
    components.unshift({
      name: 'http',
      start: async () => {
        const addr = await ops.listen(config.http.listen.port, config.http.listen.host);
        daemon.httpPort = addr.port;
      },
      stop: () => ops.close(),
    });
  }
  const apiListen = config.api.listen;
  if (apiListen) {
    const api = new ApiServer({
      tokens: config.api.tokens,
      rateLimit: config.api.rateLimit,
      rateBurst: config.api.rateBurst,
      store: {
        readMessageTimeline: (id) => readMessageTimeline(db, id),
        readMessageStatus: (id) => inboxStore.readMessageStatus(db, id),
        listConversations: (filter, limit, after) => inboxStore.listConversations(db, filter, limit, after),
        readConversationSummary: (id) => inboxStore.readConversationSummary(db, id),
        readConversationThread: (id, limit) => inboxStore.readConversationThread(db, id, limit),
        assignConversation: (id, agent) => inboxStore.assignConversation(db, id, agent),
        closeConversation: (id) => inboxStore.closeConversation(db, id),
        handBackConversation: (id) => inboxStore.handBackConversation(db, id),
        reopenForAnswer: (id) => inboxStore.reopenForAnswer(db, id, Math.round(config.conversations.ttlMs / 1000)),
      },
      admit: (list) => intake.admit(list),
      openEventReader: () => new EventStreamReader(config.redis.url, `parley:${consumer}:events`, redisError),
      streams: { events: keys.events, inbound: keys.inbound },
      logger: log,
      observer: {
        onRequest: (operation, status, seconds) => {
          metrics.apiRequests.inc({ operation, code: String(status) });
          metrics.apiRequestLatency.observe({ operation }, seconds);
        },
        onEventClients: (count) => metrics.apiEventClients.set(count),
      },
    });
    applyApi = (next) => api.reconfigure(next.tokens, next.rateLimit, next.rateBurst);
    // Started last and stopped first: sends over HTTP need intake and the dispatcher running.
    components.push({
      name: 'api',
      start: async () => {
        const addr = await api.listen(apiListen.port, apiListen.host);
        daemon.apiPort = addr.port;
        log.info({ listen: `${addr.address}:${addr.port}`, tokens: config.api.tokens.length }, 'HTTP API and agent inbox listening');
      },
      stop: () => api.close(),
    });
  }
  (daemon as { service: Service }).service = new Service(components, log, config.shutdown.forceMs);
  return daemon;
}
