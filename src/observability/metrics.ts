/**
 * Every metric Parley exports, in one place (prom-client). Names follow Prometheus conventions:
 * `parley_` prefix, base units, `_total` counters, `_seconds` histograms (Node's default process
 * metrics keep their stock `process_`/`nodejs_` names). Labels stay bounded:
 * route, SMSC, bind, state, status names; never a number or a message id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BIND_STATES, type BindState } from '../smpp/smsc-bind.ts';
import { PARLEY_VERSION } from '../lib/version.ts';

export class Metrics {
  readonly registry = new Registry();

  readonly submits = new Counter({
    name: 'parley_submits_total',
    help: 'submit_sm results by route, SMSC, outcome and command_status name',
    labelNames: ['route', 'smsc', 'outcome', 'status'] as const,
    registers: [this.registry],
  });

  readonly submitResends = new Counter({
    name: 'parley_submit_resends_total',
    help:
      'segments submitted again after a backoff, by route, SMSC and why (command_status name, response_timeout, malformed_response...); uncertain="true" when the last submit may have reached the SMSC (a possible duplicate)',
    labelNames: ['route', 'smsc', 'reason', 'uncertain'] as const,
    registers: [this.registry],
  });

  readonly emptySmscMessageIds = new Counter({
    name: 'parley_submit_empty_message_ids_total',
    help: 'segments the SMSC accepted (ESME_ROK) with an empty message_id in submit_sm_resp: their receipts cannot be matched',
    labelNames: ['route', 'smsc'] as const,
    registers: [this.registry],
  });

  readonly submitLatency = new Histogram({
    name: 'parley_submit_response_seconds',
    help: 'Time from submit_sm on the wire to its submit_sm_resp',
    labelNames: ['smsc'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly bindState = new Gauge({
    name: 'parley_bind_state',
    help: '1 for the state each bind is in, 0 for the others',
    labelNames: ['smsc', 'bind', 'state'] as const,
    registers: [this.registry],
  });

  readonly windowInUse = new Gauge({
    name: 'parley_bind_window_in_use',
    help: 'submit_sm awaiting their response, per bind',
    labelNames: ['smsc', 'bind'] as const,
    registers: [this.registry],
  });

  readonly intakeEntries = new Counter({
    name: 'parley_intake_entries_total',
    help: 'Outbound stream entries read, by result (inserted, duplicate, dead_letter)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'parley_dead_letters_total',
    help: 'Outbound entries sent to the dead-letter stream, by reason code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly dispatcherBacklog = new Gauge({
    name: 'parley_dispatch_backlog_messages',
    help: 'Messages taken up by this daemon and not yet submitted or failed',
    registers: [this.registry],
  });

  readonly throttleTokens = new Gauge({
    name: 'parley_route_throttle_tokens',
    help: 'Tokens (segments) available now in each route bucket',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly throttleWait = new Counter({
    name: 'parley_route_throttle_wait_seconds_total',
    help: 'Time segments spent waiting for a route token',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly intakeDepth = new Gauge({
    name: 'parley_intake_stream_entries',
    help: 'Entries in the outbound stream (XLEN), read or not',
    registers: [this.registry],
  });

  readonly intakeLag = new Gauge({
    name: 'parley_intake_lag_entries',
    help: 'Outbound stream entries not yet delivered to the consumer group',
    registers: [this.registry],
  });

  readonly intakePending = new Gauge({
    name: 'parley_intake_pending_entries',
    help: 'Outbound stream entries read by a daemon and not yet acknowledged',
    registers: [this.registry],
  });

  readonly finalReceiptLatency = new Histogram({
    name: 'parley_submit_to_final_seconds',
    help: 'Time from a message being submitted to its final status (from the receipts)',
    labelNames: ['route', 'status'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400],
    registers: [this.registry],
  });

  readonly throttleRate = new Gauge({
    name: 'parley_route_rate_segments_per_second',
    help: 'The send rate in force per route, lowered while the SMSC throttles',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly throttleShared = new Gauge({
    name: 'parley_route_throttle_shared',
    help: '1 while the route is paced by the bucket shared by every daemon in Redis; 0 while Redis is unreachable and this daemon sends at the route rate divided by the live daemons',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly throttleFallbacks = new Counter({
    name: 'parley_route_throttle_fallbacks_total',
    help: 'Times the route left the shared Redis bucket for the local fallback share',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly bindLeases = new Gauge({
    name: 'parley_smsc_bind_leases',
    help: 'Bind slots this daemon holds a lease on for an SMSC capped by max_binds',
    labelNames: ['smsc'] as const,
    registers: [this.registry],
  });

  readonly liveDaemons = new Gauge({
    name: 'parley_live_daemons',
    help: 'Daemons with a fresh heartbeat in Postgres, as this daemon last read them',
    registers: [this.registry],
  });

  readonly statusChanges = new Counter({
    name: 'parley_message_status_changes_total',
    help: 'Messages entering each status, by route',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly receipts = new Counter({
    name: 'parley_receipts_total',
    help: 'Delivery receipts received, by SMSC and reported state (UNREADABLE when not parsable)',
    labelNames: ['smsc', 'state'] as const,
    registers: [this.registry],
  });

  readonly receiptCommitLatency = new Histogram({
    name: 'parley_receipt_commit_seconds',
    help: 'Time from a receipt deliver_sm arriving to its commit (after which it is answered)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly unmatchedReceipts = new Gauge({
    name: 'parley_receipts_unmatched',
    help: 'Stored receipts that matched no message for longer than receipts.unmatched_horizon',
    registers: [this.registry],
  });

  readonly possibleDuplicates = new Counter({
    name: 'parley_possible_duplicates_total',
    help: 'Messages flagged possible_duplicate (submitted again after an uncertain or unrecorded submit), by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly takeovers = new Counter({
    name: 'parley_daemon_takeovers_total',
    help: 'Dead daemons (heartbeat older than daemon.takeover) whose work this daemon took over',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'parley_webhook_deliveries_total',
    help: 'Webhook delivery attempts by webhook and outcome (delivered, retry, failed)',
    labelNames: ['webhook', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookLatency = new Histogram({
    name: 'parley_webhook_request_seconds',
    help: 'Time a webhook took to answer (or time out)',
    labelNames: ['webhook'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly replies = new Counter({
    name: 'parley_replies_total',
    help: 'Customer replies handled, by how they were matched and whether they were resolved automatically',
    labelNames: ['matched', 'resolved'] as const,
    registers: [this.registry],
  });

  readonly autoReplyLatency = new Histogram({
    name: 'parley_auto_reply_seconds',
    help: "Time from a customer's message arriving to the answer's submit_sm on the wire",
    buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly compliance = new Counter({
    name: 'parley_compliance_keywords_total',
    help: 'Compliance keywords received, by kind (opt_out, opt_in, help) and whether they changed the state',
    labelNames: ['kind', 'changed'] as const,
    registers: [this.registry],
  });

  readonly messagesHeld = new Counter({
    name: 'parley_messages_held_total',
    help: 'Messages held at intake until later, by reason (scheduled: payload send_at; quiet_hours: inside the recipient\'s quiet hours)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly messagesReleased = new Counter({
    name: 'parley_messages_released_total',
    help: 'Held messages handed to the dispatcher once their time came',
    registers: [this.registry],
  });

  readonly surveyAnswers = new Counter({
    name: 'parley_survey_answers_total',
    help: 'Survey answers stored, by survey name, question kind (rating, choice, text), validity, and value for ratings and choices (empty for text and invalid answers)',
    labelNames: ['survey', 'kind', 'valid', 'value'] as const,
    registers: [this.registry],
  });

  readonly replyIntents = new Counter({
    name: 'parley_reply_intents_total',
    help: 'Customer replies by the intent read (yes, no, choice, reschedule, opt_out, ..., custom for NLU names) and how they were handled (compliance, automatic, apps, escalated, review)',
    labelNames: ['intent', 'handling'] as const,
    registers: [this.registry],
  });

  readonly ruleWebhooks = new Counter({
    name: 'parley_rule_webhook_calls_total',
    help: 'Webhook calls made by reply rules, by webhook and outcome (answered, no_reply, failed)',
    labelNames: ['webhook', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly reassembliesPending = new Gauge({
    name: 'parley_reassemblies_pending',
    help: 'Concatenated customer messages waiting for missing parts',
    registers: [this.registry],
  });

  readonly queueOldestAge = new Gauge({
    name: 'parley_queue_oldest_message_age_seconds',
    help: 'Age of the oldest message still queued in Postgres (0 when none is queued); the same on every daemon',
    registers: [this.registry],
  });

  readonly intakeOldestUnreadAge = new Gauge({
    name: 'parley_intake_oldest_unread_age_seconds',
    help: 'Age of the oldest outbound stream entry no daemon has read yet (0 when all are read); grows when no daemon reads',
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: 'parley_build_info',
    help: 'Always 1; the labels name the Parley version and the Node.js version running it',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'parley_retention_deleted_rows_total',
    help: 'Rows the retention sweep deleted, by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  readonly streamTrimmed = new Counter({
    name: 'parley_stream_trimmed_entries_total',
    help: 'Redis stream entries deleted by trimming, by stream (outbound, dead, events, inbound)',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  readonly dependencyUp = new Gauge({
    name: 'parley_dependency_up',
    help: '1 while the dependency (postgres, redis) answers its probe, 0 while it is down',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly dependencyOutages = new Counter({
    name: 'parley_dependency_outages_total',
    help: 'Times a dependency (postgres, redis) stopped answering',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly redisStateLost = new Counter({
    name: 'parley_redis_state_lost_total',
    help: 'Times Redis had lost state the daemon relies on (the intake consumer group) and it was recreated',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  readonly internalErrors = new Counter({
    name: 'parley_internal_errors_total',
    help: 'Errors nothing handled (unhandled rejections, uncaught exceptions, error events), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly pipelineStalled = new Gauge({
    name: 'parley_pipeline_stalled',
    help: '1 when the pipeline has had work waiting without progress for health.stall_after or longer, else 0',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly pipelineStall = new Gauge({
    name: 'parley_pipeline_stall_seconds',
    help: 'How long the pipeline has had work waiting without progress (0 while it moves or has nothing to do)',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly quarantined = new Counter({
    name: 'parley_quarantined_pdus_total',
    help: 'deliver_sm the store refused (poison), kept in quarantined_pdus and answered, by pipeline (receipts, replies)',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });

  readonly repliesFailed = new Counter({
    name: 'parley_replies_failed_total',
    help: 'Customer replies set aside as failed with a reason (poison: their handling, answer or record cannot be stored)',
    registers: [this.registry],
  });

  readonly eventsDropped = new Counter({
    name: 'parley_events_dropped_total',
    help: 'Events Redis refused for good (poison) and that were not published, by stream and event type',
    labelNames: ['stream', 'type'] as const,
    registers: [this.registry],
  });

  readonly apiRequests = new Counter({
    name: 'parley_api_requests_total',
    help: 'HTTP API requests by operation (the OpenAPI operationId, or "inbox", "unknown") and status code',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });

  readonly apiRequestLatency = new Histogram({
    name: 'parley_api_request_seconds',
    help: 'Time to answer an HTTP API request (event streams: until the first byte)',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly apiEventClients = new Gauge({
    name: 'parley_api_event_clients',
    help: 'Clients following GET /v1/events right now',
    registers: [this.registry],
  });

  readonly deliverSms = new Counter({
    name: 'parley_deliver_sm_total',
    help: 'deliver_sm (and data_sm) received from each SMSC, by what they were read as (receipt, reply); counted before they are stored',
    labelNames: ['smsc', 'kind'] as const,
    registers: [this.registry],
  });

  readonly bindFailures = new Counter({
    name: 'parley_bind_failures_total',
    help: 'Connect or bind attempts that did not end bound, by SMSC and reason (connect_failed, the bind_resp command_status name, or the session error code such as response_timeout)',
    labelNames: ['smsc', 'reason'] as const,
    registers: [this.registry],
  });

  readonly bindReconnects = new Counter({
    name: 'parley_bind_reconnects_total',
    help: 'Times a bound bind lost its connection (not stopped or held on purpose) and went back to reconnecting, by SMSC',
    labelNames: ['smsc'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'parley_config_reloads_total',
    help: 'Config reloads (SIGHUP) by outcome: applied (everything in force), partial (some changes wait for a restart), refused (the file did not validate; the running config stays)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly periodicJobFailures = new Counter({
    name: 'parley_periodic_job_failures_total',
    help: 'Failed runs of the periodic jobs (heartbeat, takeover, receipt_sweep, reassembly_sweep, run_time_controls, queue_age, retention) by job and error code; each is retried at its next interval and logged with its reason',
    labelNames: ['job', 'code'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.buildInfo.set({ version: PARLEY_VERSION, node: process.versions.node }, 1);
    if (options.defaultMetrics !== false) {
      // Node's stock names (process_*, nodejs_*), unprefixed: the usual Node.js dashboards and
      // alerts work as they are, and a job or instance label tells Parley apart from other services.
      collectDefaultMetrics({ register: this.registry });
      // prom-client names these gauges `_total`, which `promtool check metrics` rejects ("non-counter
      // metrics should not have _total suffix"); the same figure is sum() over the per-type gauges
      // (nodejs_active_handles, _requests, _resources).
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
    }
  }

  private readonly scrapeHooks: (() => Promise<void>)[] = [];

  /** Runs before each scrape: for gauges sampled from live state rather than updated as it changes. */
  onScrape(hook: () => Promise<void>): void {
    this.scrapeHooks.push(hook);
  }

  /** The exposition text, after the scrape hooks ran. */
  async scrape(): Promise<string> {
    await Promise.all(this.scrapeHooks.map((h) => h()));
    return this.registry.metrics();
  }

  setBindState(smsc: string, bind: string, state: BindState): void {
    for (const s of BIND_STATES) this.bindState.set({ smsc, bind, state: s }, s === state ? 1 : 0);
  }
}
