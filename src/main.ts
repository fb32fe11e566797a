/**
 * The composition root: the one place where adapters (Postgres, Redis, SMPP binds, HTTP) are
 * built from the config and wired into the flows. Start order matters and stop is its reverse:
 * intake stops first, then sending, then the windows drain and the binds unbind, then the
 * writers flush, and only then do Redis and Postgres close.
 */
import os from 'node:os';
import type { ParleyConfig, RouteConfig, SmscConfig } from './config/types.ts';
import type { Logger } from './lib/logger.ts';
import { ParleyError, describeError } from './lib/errors.ts';
import { Service, type Component } from './service.ts';
import { openDb, pendingMigrations, type Db } from './store/db.ts';
import * as messages from './store/messages.ts';
import { openRedis, closeRedis } from './queue/redis.ts';
import { streamKeys } from './queue/keys.ts';
import { EVENT_STREAM_MAX_LEN, OutboundStream, oldestUnreadAgeMs, trimOutbound, trimToLength } from './queue/streams.ts';
import * as operations from './store/operations.ts';
import * as retention from './store/retention.ts';
import { RetentionSweeper, type Retained } from './operations/retention-sweeper.ts';
import { EventStreamPublisher } from './queue/event-stream-publisher.ts';
import * as replyStore from './store/replies.ts';
import * as conversationStore from './store/conversations.ts';
import * as optOutStore from './store/opt-outs.ts';
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
import { AdaptiveThrottle, type RouteThrottle } from './outbound/route-throttle.ts';
import { Dispatcher, type DispatchJob } from './outbound/dispatcher.ts';
import { SubmitRecorder } from './outbound/submit-recorder.ts';
import { Intake } from './outbound/intake.ts';
import { Batcher } from './lib/batcher.ts';
import { Metrics } from './observability/metrics.ts';
import { OpsServer } from './observability/http.ts';

export interface DaemonOptions {
  readonly logger: Logger;
  /** Postgres schema (tests isolate themselves with one each). */
  readonly schema?: string;
  readonly metrics?: Metrics;
  /** Whether to listen on http.listen (tests usually pass false). */
  readonly http?: boolean;
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
  /** The port the ops endpoint listens on, once started with http. */
  httpPort?: number;
}

/** A daemon is dead when its heartbeat is this old; its queued messages can then be claimed. */
const HEARTBEAT_MS = 5_000;
const DEAD_AFTER_MS = 20_000;
const RECLAIM_EVERY_MS = 15_000;
const RECLAIM_BATCH = 1_000;
const REDIS_START_TIMEOUT_MS = 10_000;
/** A reply claimed by a daemon is its own this long; longer than any webhook call and its answer. */
const REPLY_LEASE_MS = 120_000;
/** How often each daemon re-reads the run-time pauses (`parley route|smsc pause`) from Postgres. */
const PAUSES_POLL_MS = 1_000;
/** How often queued messages past their expires_at are looked for in Postgres, and the margin left to the dispatcher. */
const QUEUE_AGE_SWEEP_MS = 2_000;
const QUEUE_AGE_MARGIN_MS = 2_000;

function redactedRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Resolves with the promise, or rejects with `onTimeout()` when it takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function throttleFor(route: RouteConfig, metrics: Metrics, buckets: Map<string, AdaptiveThrottle>): RouteThrottle {
  const bucket = new AdaptiveThrottle(route.tps, route.burst);
  buckets.set(route.name, bucket);
  metrics.throttleRate.set({ route: route.name }, route.tps);
  const labels = { route: route.name };
  return {
    acquire: async (signal) => {
      if (bucket.tryAcquire()) return true;
      const t0 = performance.now();
      const got = await bucket.acquire(signal);
      metrics.throttleWait.inc(labels, (performance.now() - t0) / 1000);
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
    onInbound,
  });
}

export function buildDaemon(config: ParleyConfig, options: DaemonOptions): Daemon {
  const log = options.logger;
  const metrics = options.metrics ?? new Metrics();
  const schema = options.schema ?? 'public';
  const consumer = config.intake.consumer;
  const keys = streamKeys(config.redis.prefix);

  const db = openDb({
    url: config.database.url,
    poolSize: config.database.poolSize,
    schema,
    onIdleError: (err) => log.warn({ err: err.message }, 'postgres idle connection lost'),
  });
  const redisError = (err: Error): void => log.warn({ err: err.message }, 'redis connection error');
  const redis = openRedis({ url: config.redis.url, name: `parley:${consumer}`, onError: redisError });
  const blocking = openRedis({ url: config.redis.url, name: `parley:${consumer}:intake`, onError: redisError });

  const router = new Router(config.routes);
  const buckets = new Map<string, AdaptiveThrottle>();
  const smscConfigs = new Map(config.smscs.map((s) => [s.name, s]));

  let statusWebhooks = config.webhooks.filter((w) => w.subscribe.includes('message.status')).map((w) => w.name);
  const publisherOptions = { batchSize: config.store.batchSize, batchDelayMs: config.store.batchDelayMs, logger: log };
  const events = new EventStreamPublisher(redis, keys.events, publisherOptions);
  const inboundEvents = new EventStreamPublisher(redis, keys.inbound, publisherOptions);
  const published = (changes: readonly StatusEventFacts[]): void => {
    const now = new Date();
    for (const c of changes) {
      const route = c.route || 'none';
      metrics.statusChanges.inc({ route, status: c.status });
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
    observer: {
      onReceipt: (smsc, state) => metrics.receipts.inc({ smsc, state }),
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
      release: (ids) => replyStore.releaseReplies(db, ids),
    },
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
  });
  const inbound = new InboundReceiver({
    receipts,
    replies: capture,
    detectReceiptText: (smsc) => smscConfigs.get(smsc)?.detectReceiptText ?? false,
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

  const recorder = new SubmitRecorder({
    store: { recordSubmits: (segments, changes) => messages.recordSubmits(db, segments, changes, statusWebhooks) },
    published,
    batchSize: config.store.batchSize,
    batchDelayMs: config.store.batchDelayMs,
    logger: log,
  });

  const webhookWorker = new WebhookDeliveryWorker({
    store: {
      claimDue: (limit, leaseMs) => webhookStore.claimDueDeliveries(db, limit, leaseMs),
      finish: (id, outcome) => webhookStore.finishDelivery(db, id, outcome),
    },
    targets: new Map(config.webhooks.map((w) => [w.name, w])),
    logger: log,
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
    throttleFor: (route) => throttleFor(route, metrics, buckets),
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
    },
  });
  wakeDispatch = () => dispatcher.wake();

  const outbound = new OutboundStream(redis, blocking, keys, consumer);
  const intake = new Intake(
    {
      stream: outbound,
      store: { insertMessages: (queued, refused) => messages.insertMessages(db, consumer, queued, refused, { statusWebhooks, conversationTtlSeconds: Math.round(config.conversations.ttlMs / 1000) }) },
      router,
      alphabetFor: (route) => smscConfigs.get(router.route(route)?.smscs[0] ?? '')?.defaultAlphabet ?? 'gsm7',
      dispatcher,
      publishCommitted: published,
      logger: log,
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
    },
  );

  /** Claims queued messages nobody live works on and hands them to the dispatcher. */
  const reclaim = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const found = await messages.claimUnfinished(db, consumer, DEAD_AFTER_MS, RECLAIM_BATCH);
      const jobs: DispatchJob[] = found.map((u) => ({ message: u.message, priorAttempts: u.attempts, acceptedSegments: u.acceptedSegments }));
      dispatcher.enqueue(jobs);
      total += jobs.length;
      if (found.length < RECLAIM_BATCH) return total;
    }
  };

  admit = (messages) => intake.admit(messages);

  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reassemblyTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let reclaimTimer: NodeJS.Timeout | undefined;
  const ops = new OpsServer({ scrape: () => metrics.scrape(), contentType: metrics.registry.contentType }, {
    check: async () => {
      const problems: string[] = [];
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute().catch(() => problems.push('postgres: not answering'));
      await redis.ping().catch(() => problems.push('redis: not answering'));
      for (const route of config.routes) {
        if (!route.smscs.some((s) => pools.get(s)?.canSubmit)) problems.push(`route ${route.name}: no bound bind on ${route.smscs.join(', ')}`);
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
      if (!same(rest(old), rest(route))) needsRestart.push(`routes.${route.name} (prefixes, smscs, default_from, uncertain_submit)`);
    }
    for (const gone of oldRoutes.keys()) needsRestart.push(`routes: ${gone} was removed`);
    for (const key of ['smscs', 'database', 'redis', 'http', 'log', 'intake', 'store', 'shutdown', 'receipts', 'conversations'] as const) {
      if (!same(current[key], next[key])) needsRestart.push(key === 'smscs' ? 'smscs (addresses, credentials, binds)' : key);
    }
    // What now runs: the new numbers, webhooks and rates; everything else as started.
    current = {
      ...current,
      numbers: next.numbers,
      webhooks: next.webhooks,
      routes: current.routes.map((r) => {
        const n = next.routes.find((x) => x.name === r.name);
        return n ? { ...r, tps: n.tps, burst: n.burst } : r;
      }),
    };
    log.info({ applied, needsRestart }, needsRestart.length ? 'config reloaded; some changes need a restart' : 'config reloaded');
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
      },
      stop: async () => {
        await Promise.all([closeRedis(redis), closeRedis(blocking)]);
      },
    },
    {
      name: 'heartbeat',
      start: async () => {
        await messages.heartbeat(db, consumer, os.hostname(), process.pid);
        heartbeatTimer = setInterval(() => {
          messages.heartbeat(db, consumer, os.hostname(), process.pid).catch((err: unknown) => {
            log.warn({ err: describeError(err) }, 'heartbeat failed');
          });
        }, HEARTBEAT_MS);
        heartbeatTimer.unref();
      },
      stop: async () => {
        clearInterval(heartbeatTimer);
        // Gone from the table, this daemon's queued messages can be claimed at once by the next.
        await messages.removeDaemon(db, consumer);
      },
    },
    { name: 'events', stop: async () => Promise.all([events.flush(), inboundEvents.flush()]).then(() => undefined) },
    { name: 'webhook-deliveries', start: () => webhookWorker.start(), stop: () => webhookWorker.stop() },
    {
      name: 'receipt-sweep',
      start: () => {
        sweepTimer = setInterval(() => {
          sweep().catch((err: unknown) => log.warn({ err: describeError(err) }, 'receipt sweep failed'));
        }, config.receipts.sweepIntervalMs);
        sweepTimer.unref();
      },
      stop: () => clearInterval(sweepTimer),
    },
    { name: 'receipts', stop: () => receipts.flush() },
    { name: 'reply-capture', stop: () => capture.flush() },
    { name: 'submit-recorder', stop: () => recorder.flush() },
    { name: 'attempt-ledger', stop: () => attemptBatches.flush() },
    {
      name: 'smsc-binds',
      start: () => {
        for (const p of pools.values()) p.start();
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
    {
      name: 'recovery',
      start: async () => {
        await messages.releaseOwned(db, consumer);
        const n = await reclaim();
        if (n > 0) log.info({ messages: n }, 'picked up queued messages from Postgres');
        reclaimTimer = setInterval(() => {
          reclaim()
            .then((count) => count > 0 && log.info({ messages: count }, 'claimed queued messages of a stopped daemon'))
            .catch((err: unknown) => log.warn({ err: describeError(err) }, 'reclaiming queued messages failed'));
        }, RECLAIM_EVERY_MS);
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
  (daemon as { service: Service }).service = new Service(components, log, config.shutdown.forceMs);
  return daemon;
}
