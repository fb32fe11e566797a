/** The SMPP binds: their state, windows, leases, failures and reconnects, and the deliver_sm they receive. */
import { Counter, Gauge, type Registry } from 'prom-client';

export function bindMetrics(registry: Registry) {
  return {
    bindState: new Gauge({
        name: 'parley_bind_state',
        help: '1 for the state each bind is in, 0 for the others',
        labelNames: ['smsc', 'bind', 'state'] as const,
        registers: [registry],
      }),
    windowInUse: new Gauge({
        name: 'parley_bind_window_in_use',
        help: 'submit_sm awaiting their response, per bind',
        labelNames: ['smsc', 'bind'] as const,
        registers: [registry],
      }),
    bindLeases: new Gauge({
        name: 'parley_smsc_bind_leases',
        help: 'Bind slots this daemon holds a lease on for an SMSC capped by max_binds',
        labelNames: ['smsc'] as const,
        registers: [registry],
      }),
    bindFailures: new Counter({
        name: 'parley_bind_failures_total',
        help: 'Connect or bind attempts that did not end bound, by SMSC and reason (connect_failed, the bind_resp command_status name, or the session error code such as response_timeout)',
        labelNames: ['smsc', 'reason'] as const,
        registers: [registry],
      }),
    bindReconnects: new Counter({
        name: 'parley_bind_reconnects_total',
        help: 'Times a bound bind lost its connection (not stopped or held on purpose) and went back to reconnecting, by SMSC',
        labelNames: ['smsc'] as const,
        registers: [registry],
      }),
    deliverSms: new Counter({
        name: 'parley_deliver_sm_total',
        help: 'deliver_sm (and data_sm) received from each SMSC, by what they were read as (receipt, reply); counted before they are stored',
        labelNames: ['smsc', 'kind'] as const,
        registers: [registry],
      }),
  };
}

export type BindMetrics = ReturnType<typeof bindMetrics>;
