/** The outbound flow: intake from the stream, holds, routes' throttles, submits and their results, the queue's age. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function outboundMetrics(registry: Registry) {
  return {
    intakeEntries: new Counter({
        name: 'parley_intake_entries_total',
        help: 'Outbound stream entries read, by result (inserted, duplicate, dead_letter)',
        labelNames: ['result'] as const,
        registers: [registry],
      }),
    deadLetters: new Counter({
        name: 'parley_dead_letters_total',
        help: 'Outbound entries sent to the dead-letter stream, by reason code',
        labelNames: ['code'] as const,
        registers: [registry],
      }),
    intakeDepth: new Gauge({
        name: 'parley_intake_stream_entries',
        help: 'Entries in the outbound stream (XLEN), read or not',
        registers: [registry],
      }),
    intakeLag: new Gauge({
        name: 'parley_intake_lag_entries',
        help: 'Outbound stream entries not yet delivered to the consumer group',
        registers: [registry],
      }),
    intakePending: new Gauge({
        name: 'parley_intake_pending_entries',
        help: 'Outbound stream entries read by a daemon and not yet acknowledged',
        registers: [registry],
      }),
    intakeOldestUnreadAge: new Gauge({
        name: 'parley_intake_oldest_unread_age_seconds',
        help: 'Age of the oldest outbound stream entry no daemon has read yet (0 when all are read); grows when no daemon reads',
        registers: [registry],
      }),
    messagesHeld: new Counter({
        name: 'parley_messages_held_total',
        help: 'Messages held at intake until later, by reason (scheduled: payload send_at; quiet_hours: inside the recipient\'s quiet hours)',
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
    messagesReleased: new Counter({
        name: 'parley_messages_released_total',
        help: 'Held messages handed to the dispatcher once their time came',
        registers: [registry],
      }),
    dispatcherBacklog: new Gauge({
        name: 'parley_dispatch_backlog_messages',
        help: 'Messages taken up by this daemon and not yet submitted or failed',
        registers: [registry],
      }),
    queueOldestAge: new Gauge({
        name: 'parley_queue_oldest_message_age_seconds',
        help: 'How long the oldest message queued in Postgres has waited since it could be sent: since it was accepted, or since its send time when it was held (scheduled, quiet hours); 0 when none waits. The same on every daemon',
        registers: [registry],
      }),
    throttleTokens: new Gauge({
        name: 'parley_route_throttle_tokens',
        help: 'Tokens (segments) available now in each route bucket',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    throttleWait: new Counter({
        name: 'parley_route_throttle_wait_seconds_total',
        help: 'Time segments spent waiting for a route token',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    throttleRate: new Gauge({
        name: 'parley_route_rate_segments_per_second',
        help: 'The send rate in force per route, lowered while the SMSC throttles',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    throttleShared: new Gauge({
        name: 'parley_route_throttle_shared',
        help: '1 while the route is paced by the bucket shared by every daemon in Redis; 0 while Redis is unreachable and this daemon sends at the route rate divided by the live daemons',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    throttleFallbacks: new Counter({
        name: 'parley_route_throttle_fallbacks_total',
        help: 'Times the route left the shared Redis bucket for the local fallback share',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    submits: new Counter({
        name: 'parley_submits_total',
        help: 'submit_sm results by route, SMSC, outcome and command_status name',
        labelNames: ['route', 'smsc', 'outcome', 'status'] as const,
        registers: [registry],
      }),
    submitResends: new Counter({
        name: 'parley_submit_resends_total',
        help:
          'segments submitted again after a backoff, by route, SMSC and why (command_status name, response_timeout, malformed_response...); uncertain="true" when the last submit may have reached the SMSC (a possible duplicate)',
        labelNames: ['route', 'smsc', 'reason', 'uncertain'] as const,
        registers: [registry],
      }),
    emptySmscMessageIds: new Counter({
        name: 'parley_submit_empty_message_ids_total',
        help: 'segments the SMSC accepted (ESME_ROK) with an empty message_id in submit_sm_resp: their receipts cannot be matched',
        labelNames: ['route', 'smsc'] as const,
        registers: [registry],
      }),
    submitLatency: new Histogram({
        name: 'parley_submit_response_seconds',
        help: 'Time from submit_sm on the wire to its submit_sm_resp',
        labelNames: ['smsc'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    possibleDuplicates: new Counter({
        name: 'parley_possible_duplicates_total',
        help: 'Messages flagged possible_duplicate (submitted again after an uncertain or unrecorded submit), by route',
        labelNames: ['route'] as const,
        registers: [registry],
      }),
    statusChanges: new Counter({
        name: 'parley_message_status_changes_total',
        help: 'Messages entering each status, by route',
        labelNames: ['route', 'status'] as const,
        registers: [registry],
      }),
  };
}

export type OutboundMetrics = ReturnType<typeof outboundMetrics>;
