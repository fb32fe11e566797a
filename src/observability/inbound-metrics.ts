/** The inbound flow: receipts and their matching, customer replies (compliance, intents, rules, surveys, reassembly), webhooks and the events published. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function inboundMetrics(registry: Registry) {
  return {
    receipts: new Counter({
        name: 'parley_receipts_total',
        help: 'Delivery receipts received, by SMSC and reported state (UNREADABLE when not parsable)',
        labelNames: ['smsc', 'state'] as const,
        registers: [registry],
      }),
    receiptCommitLatency: new Histogram({
        name: 'parley_receipt_commit_seconds',
        help: 'Time from a receipt deliver_sm arriving to its commit (after which it is answered)',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
    finalReceiptLatency: new Histogram({
        name: 'parley_submit_to_final_seconds',
        help: 'Time from a message being submitted to its final status (from the receipts)',
        labelNames: ['route', 'status'] as const,
        buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400],
        registers: [registry],
      }),
    unmatchedReceipts: new Gauge({
        name: 'parley_receipts_unmatched',
        help: 'Stored receipts that matched no message for longer than receipts.unmatched_horizon',
        registers: [registry],
      }),
    quarantined: new Counter({
        name: 'parley_quarantined_pdus_total',
        help: 'deliver_sm the store refused (poison), kept in quarantined_pdus and answered, by pipeline (receipts, replies)',
        labelNames: ['pipeline'] as const,
        registers: [registry],
      }),
    replies: new Counter({
        name: 'parley_replies_total',
        help: 'Customer replies handled, by how they were matched and whether they were resolved automatically',
        labelNames: ['matched', 'resolved'] as const,
        registers: [registry],
      }),
    autoReplyLatency: new Histogram({
        name: 'parley_auto_reply_seconds',
        help: "Time from a customer's message arriving to the answer's submit_sm on the wire",
        buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
    compliance: new Counter({
        name: 'parley_compliance_keywords_total',
        help: 'Compliance keywords received, by kind (opt_out, opt_in, help) and whether they changed the state',
        labelNames: ['kind', 'changed'] as const,
        registers: [registry],
      }),
    replyIntents: new Counter({
        name: 'parley_reply_intents_total',
        help: 'Customer replies by the intent read (yes, no, choice, reschedule, opt_out, ..., custom for NLU names) and how they were handled (compliance, automatic, apps, escalated, review)',
        labelNames: ['intent', 'handling'] as const,
        registers: [registry],
      }),
    surveyAnswers: new Counter({
        name: 'parley_survey_answers_total',
        help: 'Survey answers stored, by survey name, question kind (rating, choice, text), validity, and value for ratings and choices (empty for text and invalid answers)',
        labelNames: ['survey', 'kind', 'valid', 'value'] as const,
        registers: [registry],
      }),
    ruleWebhooks: new Counter({
        name: 'parley_rule_webhook_calls_total',
        help: 'Webhook calls made by reply rules, by webhook and outcome (answered, no_reply, failed)',
        labelNames: ['webhook', 'outcome'] as const,
        registers: [registry],
      }),
    reassembliesPending: new Gauge({
        name: 'parley_reassemblies_pending',
        help: 'Concatenated customer messages waiting for missing parts',
        registers: [registry],
      }),
    repliesFailed: new Counter({
        name: 'parley_replies_failed_total',
        help: 'Customer replies set aside as failed with a reason (poison: their handling, answer or record cannot be stored)',
        registers: [registry],
      }),
    webhookDeliveries: new Counter({
        name: 'parley_webhook_deliveries_total',
        help: 'Webhook delivery attempts by webhook and outcome (delivered, retry, failed)',
        labelNames: ['webhook', 'outcome'] as const,
        registers: [registry],
      }),
    webhookLatency: new Histogram({
        name: 'parley_webhook_request_seconds',
        help: 'Time a webhook took to answer (or time out)',
        labelNames: ['webhook'] as const,
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    eventsDropped: new Counter({
        name: 'parley_events_dropped_total',
        help: 'Events Redis refused for good (poison) and that were not published, by stream and event type',
        labelNames: ['stream', 'type'] as const,
        registers: [registry],
      }),
  };
}

export type InboundMetrics = ReturnType<typeof inboundMetrics>;
