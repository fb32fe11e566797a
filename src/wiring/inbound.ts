/**
 * The inbound path, wired: deliver_sm -> receipt or reply; receipts -> status changes; replies ->
 * reassembly -> conversation -> compliance and rules -> an answer (back into the outbound path
 * through `admit`, like any message) or a webhook. Also the sweeps that keep it moving: overdue
 * receipts, copies' receipts, and replies whose parts never all arrived.
 */
import type { RecentCarrierIds } from '../domain/recent-carrier-ids.ts';
import type { ParleyConfig } from '../config/types.ts';
import type { StatusEventFacts } from '../domain/events.ts';
import { ReceiptRecorder } from '../inbound/receipts.ts';
import { InboundReceiver } from '../inbound/receiver.ts';
import { ReplyCapture } from '../inbound/reply-capture.ts';
import { ReplyHandler } from '../inbound/reply-handler.ts';
import { PeriodicJob } from '../lib/periodic-job.ts';
import type { Intake } from '../outbound/intake.ts';
import type { EventStreamPublisher } from '../queue/event-stream-publisher.ts';
import type { Component } from '../service.ts';
import * as conversationStore from '../store/conversations.ts';
import { readReplyBatch } from '../store/reply-batch.ts';
import type { Db } from '../store/db.ts';
import * as optOutStore from '../store/opt-outs.ts';
import type { QuarantinedPdu } from '../domain/quarantine.ts';
import * as quarantineStore from '../store/quarantine.ts';
import * as receiptStore from '../store/receipts.ts';
import * as pendingReceipts from '../store/pending-receipts.ts';
import * as statusChanges from '../store/status-changes.ts';
import * as replyStore from '../store/replies.ts';
import * as surveyStore from '../store/surveys.ts';
import * as webhookStore from '../store/webhooks.ts';
import { WebhookDeliveryWorker } from '../webhooks/delivery-worker.ts';
import type { DaemonContext, WebhookSubscriptions } from './context.ts';

/** A receipt pending this long is no early receipt waiting for its answer: it may be a lost copy's. */
const COPY_RECEIPT_AFTER_MS = 5_000;
/**
 * How often every daemon matches receipts that missed their answer by racing it (see
 * rematchPendingReceipts), and how far back that frequent pass looks; the receipt sweep looks
 * back over the whole unmatched horizon, for a receipt whose transaction committed later still.
 */
const REMATCH_INTERVAL_MS = 250;
const REMATCH_WITHIN_MS = 60_000;
/** A reply claimed by a daemon is its own this long; longer than any webhook call and its answer. */
const REPLY_LEASE_MS = 120_000;

export interface InboundDeps {
  /** Periodic jobs' pool (see Connections.db). */
  readonly db: Db;
  /** The pipelines' pool (see Connections.pipelineDb): receipts, customer messages and their handling. */
  readonly pipelineDb: Db;
  readonly subscriptions: WebhookSubscriptions;
  readonly published: (changes: readonly StatusEventFacts[]) => void;
  readonly inboundEvents: EventStreamPublisher;
  /** Answers to customers enter the outbound path through intake, like any message. */
  readonly admit: Intake['admit'];
  /** The segments this daemon sent lately (written by the submit answers): receipts name theirs. */
  readonly carrierIds?: RecentCarrierIds;
}

export interface InboundWiring {
  readonly receiver: InboundReceiver;
  readonly receipts: ReceiptRecorder;
  /** Applies reloaded numbers (compliance, rules, synonyms) and webhook targets. */
  reconfigure(numbers: ParleyConfig['numbers'], webhooks: ParleyConfig['webhooks']): void;
  readonly components: {
    readonly webhookDeliveries: Component;
    readonly receiptSweep: PeriodicJob;
    readonly receiptRematch: PeriodicJob;
    readonly receipts: Component;
    readonly replyCapture: Component;
    readonly replyHandler: Component;
    readonly reassemblySweep: PeriodicJob;
  };
}

export function wireInbound(ctx: DaemonContext, deps: InboundDeps): InboundWiring {
  const { config, log, metrics, stalls } = ctx;
  const { db, pipelineDb, subscriptions, published } = deps;
  const smscConfigs = new Map(config.smscs.map((s) => [s.name, s]));
  const quarantine = (pdu: QuarantinedPdu): Promise<void> => quarantineStore.quarantinePdu(pipelineDb, pdu);

  const receipts = new ReceiptRecorder({
    store: { storeReceipts: (batch) => receiptStore.storeReceipts(pipelineDb, batch, subscriptions.status) },
    carrierIds: deps.carrierIds,
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
  const replyHandler = new ReplyHandler({
    store: {
      claim: (limit, leaseMs) => replyStore.claimReplies(pipelineDb, limit, leaseMs),
      finishAll: (items) => replyStore.finishReplies(pipelineDb, items.map((i) => ({ ...i, event: { ...i.event } })), subscriptions.inbound),
      readBatch: (items, ttl) => readReplyBatch(pipelineDb, items, ttl),
      updateConversation: (id, change) => conversationStore.updateConversation(pipelineDb, id, change),
      setOptOut: (change) => optOutStore.setOptOut(pipelineDb, change),
      surveyRuns: (ids) => surveyStore.runsFor(pipelineDb, ids),
      startSurvey: (run) => surveyStore.startRun(pipelineDb, run),
      recordSurveyAnswer: (runId, answer, next) => surveyStore.recordAnswer(pipelineDb, runId, answer, next),
      release: (ids) => replyStore.releaseReplies(pipelineDb, ids),
      fail: (items) => replyStore.failReplies(pipelineDb, items),
    },
    progress: stalls.progress('reply_handling'),
    onFailed: () => metrics.repliesFailed.inc(),
    numbers: config.numbers,
    webhooks: new Map(config.webhooks.map((w) => [w.name, w])),
    send: async (answers) => {
      const { rejected } = await deps.admit(
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
    publish: (event) => deps.inboundEvents.publish([event]),
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
  const partIds = new replyStore.InboundPartIds();
  const capture = new ReplyCapture({
    store: {
      storeParts: (parts, assemble) => replyStore.storeParts(pipelineDb, parts, assemble, config.conversations.duplicateWindowMs, REPLY_LEASE_MS, partIds),
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
  const receiver = new InboundReceiver({
    receipts,
    replies: capture,
    detectReceiptText: (smsc) => smscConfigs.get(smsc)?.detectReceiptText ?? false,
    onClassified: (smsc, kind) => metrics.deliverSms.inc({ smsc, kind }),
    logger: log,
  });

  const reassemblySweep = new PeriodicJob({
    name: 'reassembly_sweep',
    task: 'releasing incomplete replies',
    intervalMs: Math.min(30_000, Math.max(100, config.conversations.reassemblyTimeoutMs / 4)),
    run: async () => {
      const released = await replyStore.releaseIncomplete(db, config.conversations.reassemblyTimeoutMs, capture.assemble, REPLY_LEASE_MS);
      if (released.length > 0) {
        log.warn({ replies: released.length }, 'customer messages released incomplete after the reassembly timeout');
        replyHandler.take(released, performance.now());
      }
      metrics.reassembliesPending.set(await replyStore.countOpenGroups(db));
    },
    logger: log,
    onFailure: ctx.countFailure,
  });

  /** Expires overdue messages and counts receipts that matched nothing. */
  const sweepReceipts = async (): Promise<void> => {
    for (;;) {
      const changes = await statusChanges.sweepOverdue(db, config.receipts.graceMs, config.receipts.unknownAfterMs, 1000, subscriptions.status);
      published(changes);
      if (changes.length < 1000) break;
    }
    published((await pendingReceipts.rematchPendingReceipts(db, config.receipts.unmatchedHorizonMs, 1000, subscriptions.status)).changes);
    const copies = await pendingReceipts.matchCopyReceipts(db, COPY_RECEIPT_AFTER_MS, config.receipts.unmatchedHorizonMs, 1000, subscriptions.status);
    published(copies.changes);
    if (copies.matched > 0) log.info({ receipts: copies.matched }, 'matched receipts of copies whose carrier ids were lost with a crash');
    metrics.unmatchedReceipts.set(await pendingReceipts.countUnmatched(db, config.receipts.unmatchedHorizonMs));
  };
  const receiptSweep = new PeriodicJob({
    name: 'receipt_sweep',
    task: 'the receipt sweep',
    intervalMs: config.receipts.sweepIntervalMs,
    run: sweepReceipts,
    logger: log,
    onFailure: ctx.countFailure,
  });

  const receiptRematch = new PeriodicJob({
    name: 'receipt_rematch',
    task: 'matching receipts that raced their answers',
    intervalMs: REMATCH_INTERVAL_MS,
    run: async () => {
      const rematched = await pendingReceipts.rematchPendingReceipts(db, REMATCH_WITHIN_MS, 1000, subscriptions.status);
      published(rematched.changes);
      if (rematched.matched > 0) log.debug({ receipts: rematched.matched }, 'matched receipts stored while their answers were being recorded');
    },
    logger: log,
    onFailure: ctx.countFailure,
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

  return {
    receiver,
    receipts,
    reconfigure: (numbers, webhooks) => {
      const targets = new Map(webhooks.map((w) => [w.name, w]));
      replyHandler.reconfigure(numbers, targets);
      webhookWorker.setTargets(targets);
    },
    components: {
      webhookDeliveries: { name: 'webhook-deliveries', start: () => webhookWorker.start(), stop: () => webhookWorker.stop() },
      receiptSweep,
      receiptRematch,
      receipts: { name: 'receipts', stop: () => receipts.flush() },
      replyCapture: { name: 'reply-capture', stop: () => capture.flush() },
      replyHandler: { name: 'reply-handler', start: () => replyHandler.start(), stop: () => replyHandler.stop() },
      reassemblySweep,
    },
  };
}
