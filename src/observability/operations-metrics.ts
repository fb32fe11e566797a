/** Running the daemon: build info, dependencies, pipeline stalls, internal errors, retention and trimming, peer daemons and takeovers, config reloads. */
import { Counter, Gauge, type Registry } from 'prom-client';

export function operationsMetrics(registry: Registry) {
  return {
    buildInfo: new Gauge({
        name: 'parley_build_info',
        help: 'Always 1; the labels name the Parley version and the Node.js version running it',
        labelNames: ['version', 'node'] as const,
        registers: [registry],
      }),
    dependencyUp: new Gauge({
        name: 'parley_dependency_up',
        help: '1 while the dependency (postgres, redis) answers its probe, 0 while it is down',
        labelNames: ['dependency'] as const,
        registers: [registry],
      }),
    dependencyOutages: new Counter({
        name: 'parley_dependency_outages_total',
        help: 'Times a dependency (postgres, redis) stopped answering',
        labelNames: ['dependency'] as const,
        registers: [registry],
      }),
    redisStateLost: new Counter({
        name: 'parley_redis_state_lost_total',
        help: 'Times Redis had lost state the daemon relies on (the intake consumer group) and it was recreated',
        labelNames: ['what'] as const,
        registers: [registry],
      }),
    pipelineStalled: new Gauge({
        name: 'parley_pipeline_stalled',
        help: '1 when the pipeline has had work waiting without progress for health.stall_after or longer, else 0',
        labelNames: ['pipeline'] as const,
        registers: [registry],
      }),
    pipelineStall: new Gauge({
        name: 'parley_pipeline_stall_seconds',
        help: 'How long the pipeline has had work waiting without progress (0 while it moves or has nothing to do)',
        labelNames: ['pipeline'] as const,
        registers: [registry],
      }),
    internalErrors: new Counter({
        name: 'parley_internal_errors_total',
        help: 'Errors nothing handled (unhandled rejections, uncaught exceptions, error events), by kind',
        labelNames: ['kind'] as const,
        registers: [registry],
      }),
    retentionDeleted: new Counter({
        name: 'parley_retention_deleted_rows_total',
        help: 'Rows the retention sweep deleted, by table',
        labelNames: ['table'] as const,
        registers: [registry],
      }),
    streamTrimmed: new Counter({
        name: 'parley_stream_trimmed_entries_total',
        help: 'Redis stream entries deleted by trimming, by stream (outbound, dead, events, inbound)',
        labelNames: ['stream'] as const,
        registers: [registry],
      }),
    liveDaemons: new Gauge({
        name: 'parley_live_daemons',
        help: 'Daemons with a fresh heartbeat in Postgres, as this daemon last read them',
        registers: [registry],
      }),
    takeovers: new Counter({
        name: 'parley_daemon_takeovers_total',
        help: 'Dead daemons (heartbeat older than daemon.takeover) whose work this daemon took over',
        registers: [registry],
      }),
    configReloads: new Counter({
        name: 'parley_config_reloads_total',
        help: 'Config reloads (SIGHUP) by outcome: applied (everything in force), partial (some changes wait for a restart), refused (the file did not validate; the running config stays)',
        labelNames: ['outcome'] as const,
        registers: [registry],
      }),
    periodicJobFailures: new Counter({
        name: 'parley_periodic_job_failures_total',
        help: 'Failed runs of the periodic jobs (heartbeat, takeover, receipt_sweep, receipt_rematch, reassembly_sweep, run_time_controls, queue_age, retention) by job and error code; each is retried at its next interval and logged with its reason',
        labelNames: ['job', 'code'] as const,
        registers: [registry],
      }),
  };
}

export type OperationsMetrics = ReturnType<typeof operationsMetrics>;
