/**
 * The outbound path, wired: the Redis stream -> intake (validate, route, store) -> scheduler (held
 * sends, quiet hours) -> dispatcher (throttle, bind, submit) -> submit recorder (Postgres). Also
 * what steers it at run time: operators' pauses and cancellations, read from Postgres every
 * second, and the expiry of messages queued past their max queue age.
 */
import type { RecentCarrierIds } from '../domain/recent-carrier-ids.ts';
import type { ParleyConfig } from '../config/types.ts';
import type { StatusEventFacts } from '../domain/events.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import { normaliseAddress } from '../domain/address.ts';
import { Batcher } from '../lib/batcher.ts';
import { describeError } from '../lib/errors.ts';
import { PeriodicJob } from '../lib/periodic-job.ts';
import { Dispatcher } from '../outbound/dispatcher.ts';
import { Intake } from '../outbound/intake.ts';
import { Router } from '../outbound/router.ts';
import { parseClockTime, type QuietHours } from '../outbound/schedule.ts';
import { Scheduler } from '../outbound/scheduler.ts';
import { SubmitRecorder } from '../outbound/submit-recorder.ts';
import type { RedisClient } from '../queue/redis.ts';
import { OutboundStream } from '../queue/streams.ts';
import type { Component } from '../service.ts';
import type { Db } from '../store/db.ts';
import * as claims from '../store/claims.ts';
import * as messages from '../store/messages.ts';
import * as operations from '../store/operations.ts';
import * as replyStore from '../store/replies.ts';
import type { SmscBinds } from './binds.ts';
import type { DaemonContext, WebhookSubscriptions } from './context.ts';
import type { RouteThrottles } from './route-throttles.ts';

/** How often held messages (send_at, quiet hours) are looked for; an indexed query on few rows. */
const SCHEDULE_POLL_MS = 250;
/** How often each daemon re-reads the run-time pauses (`parley route|smsc pause`) from Postgres. */
export const PAUSES_POLL_MS = 1_000;
/** How often queued messages past their expires_at are looked for in Postgres, and the margin left to the dispatcher. */
const QUEUE_AGE_SWEEP_MS = 2_000;
const QUEUE_AGE_MARGIN_MS = 2_000;

export interface OutboundDeps {
  /** Periodic jobs' pool (see Connections.db). */
  readonly db: Db;
  /** The pipelines' pool (see Connections.pipelineDb): intake, dispatch attempts, submit status changes. */
  readonly pipelineDb: Db;
  /** The submit answers' own connection (see Connections.answersDb). */
  readonly answersDb: Db;
  readonly redis: RedisClient;
  readonly blocking: RedisClient;
  readonly binds: SmscBinds;
  readonly throttles: RouteThrottles;
  readonly subscriptions: WebhookSubscriptions;
  readonly published: (changes: readonly StatusEventFacts[]) => void;
  /** The config in force (a reload changes numbers' and routes' quiet hours). */
  readonly running: () => ParleyConfig;
  /** The clock scheduled sends and quiet hours are judged by. */
  readonly clock: () => Date;
  /** Told of every accepted answer committed, for the receipts to name their segments. */
  readonly carrierIds?: RecentCarrierIds;
}

export interface OutboundWiring {
  readonly stream: OutboundStream;
  readonly intake: Intake;
  readonly dispatcher: Dispatcher;
  readonly components: {
    readonly submitRecorder: Component;
    readonly attemptLedger: Component;
    readonly runTimeControls: Component;
    readonly queueAgeSweep: PeriodicJob;
    readonly dispatcher: Component;
    readonly scheduler: Component;
    readonly intake: Component;
  };
}

/** A number's quiet hours (by the message's sender), else its route's. */
function quietHoursOf(config: ParleyConfig, m: RoutedMessage): QuietHours | undefined {
  const q =
    config.numbers.find((n) => m.from !== undefined && normaliseAddress(n.address) === m.from)?.quietHours ??
    config.routes.find((r) => r.name === m.route)?.quietHours;
  if (q === undefined) return undefined;
  return {
    startMinute: parseClockTime(q.start) ?? 0,
    endMinute: parseClockTime(q.end) ?? 0,
    exemptAnswersWithinMs: q.exemptAnswersWithinMs,
    ...(q.timeZone === undefined ? {} : { timeZone: q.timeZone }),
  };
}

export function wireOutbound(ctx: DaemonContext, deps: OutboundDeps): OutboundWiring {
  const { config, log, metrics, consumer } = ctx;
  const { db, pipelineDb, binds, subscriptions, published } = deps;
  const smscConfigs = new Map(config.smscs.map((s) => [s.name, s]));
  const router = new Router(config.routes);

  const recorder = new SubmitRecorder({
    store: {
      recordAnswers: (segments, submitted) => messages.recordAnswers(deps.answersDb, segments, submitted, subscriptions.status),
      recordSubmits: (segments, changes, answeredBefore) => messages.recordSubmits(pipelineDb, segments, changes, subscriptions.status, answeredBefore),
    },
    published,
    carrierIds: deps.carrierIds,
    batchSize: config.store.batchSize,
    batchDelayMs: config.store.batchDelayMs,
    logger: log,
  });
  const attemptBatches = new Batcher<string>({
    maxItems: config.store.batchSize,
    maxDelayMs: config.store.batchDelayMs,
    // The first submit_sm of these messages waits for this commit: written at once when idle (an
    // auto-reply on a quiet bind), batched with the other routes' under load.
    flushWhenIdle: true,
    write: (ids) => messages.markAttempted(pipelineDb, ids),
    onError: (err, items, attempt) => log.error({ err: describeError(err), items, attempt }, 'counting attempts failed; retrying'),
  });

  // Run-time pauses as last read from Postgres; every daemon polls the same table.
  const paused = { routes: new Set<string>(), smscs: new Set<string>(), cancelled: new Set<string>() };
  const dispatcher = new Dispatcher({
    controls: { routePaused: (route) => paused.routes.has(route), smscPaused: (smsc) => paused.smscs.has(smsc), cancelled: (id) => paused.cancelled.has(id) },
    routes: config.routes,
    smscs: new Map([...binds.pools].map(([name, pool]) => [name, { link: pool, config: smscConfigs.get(name)! }])),
    throttleFor: (route) => deps.throttles.throttleFor(route),
    canServe: binds.capped ? binds.canServe : undefined,
    handBack: async (ids) => {
      await claims.handBack(pipelineDb, consumer, ids);
    },
    attempts: {
      markAttempted: (ids) => attemptBatches.addEach(ids),
      unmarkAttempted: (ids) => messages.unmarkAttempted(pipelineDb, ids),
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

  const scheduler = new Scheduler({
    quietHoursFor: (m) => quietHoursOf(deps.running(), m),
    recentWriters: (pairs, withinMs) => replyStore.recentWriters(db, pairs, withinMs),
    claimDue: (now, limit) => claims.claimDue(db, consumer, now, limit, binds.servableRoutes()),
    enqueue: (jobs) => dispatcher.enqueue(jobs),
    now: deps.clock,
    logger: log,
    pollMs: SCHEDULE_POLL_MS,
    observer: {
      onHeld: (reason) => metrics.messagesHeld.inc({ reason }),
      onReleased: (count) => metrics.messagesReleased.inc(count),
    },
  });

  const stream = new OutboundStream(deps.redis, deps.blocking, ctx.keys, consumer, (detail) => {
    metrics.redisStateLost.inc({ what: 'intake_group' });
    log.warn({ detail }, 'Redis lost state: the intake consumer group was recreated; entries already stored are recognised by their ids and not sent twice');
  });
  const intake = new Intake(
    {
      stream,
      store: {
        insertMessages: (queued, refused) =>
          messages.insertMessages(pipelineDb, consumer, queued, refused, { statusWebhooks: subscriptions.status, conversationTtlSeconds: Math.round(config.conversations.ttlMs / 1000) }),
        storedContent: (ids) => messages.storedContent(pipelineDb, ids),
      },
      router,
      alphabetFor: (route) => smscConfigs.get(router.route(route)?.smscs[0] ?? '')?.defaultAlphabet ?? 'gsm7',
      dispatcher: {
        enqueue: (jobs) => dispatcher.enqueue(jobs),
        // What intake has handed on and Postgres does not have yet: messages being sent, and the
        // submit answers and status changes waiting to be recorded. Counting only the first let
        // intake read ahead of a recorder that fell behind, and a 1,000,000-message backlog held
        // 2.7 GB of those records in memory.
        get backlog() {
          return dispatcher.backlog + recorder.pending;
        },
      },
      publishCommitted: published,
      canTake: binds.capped ? () => config.routes.some(binds.canServe) : undefined,
      scheduler,
      logger: log,
      progress: ctx.stalls.progress('intake'),
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
  const pausesPoll = new PeriodicJob({
    name: 'run_time_controls',
    task: 'reading the run-time pauses',
    intervalMs: PAUSES_POLL_MS,
    run: refreshPauses,
    logger: log,
    onFailure: ctx.countFailure,
  });
  const queueAgeSweep = new PeriodicJob({
    name: 'queue_age',
    task: 'expiring queued messages past their max queue age',
    intervalMs: QUEUE_AGE_SWEEP_MS,
    run: async () => {
      for (;;) {
        const changes = await operations.expireQueued(db, 1000, QUEUE_AGE_MARGIN_MS, subscriptions.status);
        published(changes);
        if (changes.length < 1000) break;
      }
    },
    logger: log,
    onFailure: ctx.countFailure,
  });

  return {
    stream,
    intake,
    dispatcher,
    components: {
      submitRecorder: { name: 'submit-recorder', stop: () => recorder.flush().finally(() => deps.answersDb.destroy()) },
      attemptLedger: { name: 'attempt-ledger', stop: () => attemptBatches.flush() },
      runTimeControls: {
        name: 'run_time_controls',
        start: async () => {
          // Read before the dispatcher starts, so a paused route sends nothing even at start-up.
          await refreshPauses();
          pausesPoll.start();
        },
        stop: () => pausesPoll.stop(),
      },
      queueAgeSweep,
      dispatcher: { name: 'dispatcher', start: () => dispatcher.start(), stop: () => dispatcher.stop() },
      scheduler: { name: 'scheduler', start: () => scheduler.start(), stop: () => scheduler.stop() },
      intake: { name: 'intake', start: () => intake.start(), stop: () => intake.stop() },
    },
  };
}
