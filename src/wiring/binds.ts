/**
 * The SMSC binds both flows share: one pool of binds per SMSC (outbound submits on them, inbound
 * deliver_sm arrives on them), and the bind quota that leases the slots of SMSCs capped by
 * `max_binds` across every daemon.
 */
import type { RouteConfig, SmscConfig } from '../config/types.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { BindLeases } from '../queue/coordination.ts';
import type { RedisClient } from '../queue/redis.ts';
import type { Component } from '../service.ts';
import { BindQuota } from '../smpp/bind-quota.ts';
import type { InboundAnswer, InboundSm } from '../smpp/smsc-bind.ts';
import { SmscPool } from '../smpp/smsc-pool.ts';
import type { DaemonContext } from './context.ts';

export interface SmscBinds {
  readonly pools: ReadonlyMap<string, SmscPool>;
  /** Whether some SMSC is capped by max_binds (then routes are served by whoever holds leases). */
  readonly capped: boolean;
  /** Whether this daemon may send on the route: some SMSC of it is uncapped or leased here. */
  canServe(route: RouteConfig): boolean;
  /** The routes this daemon may send on, or undefined when no SMSC is capped (all of them). */
  servableRoutes(): readonly string[] | undefined;
  readonly components: { readonly bindLeases: Component; readonly smscBinds: Component };
}

export interface BindDeps {
  readonly coordination: RedisClient;
  /** A bind changed state or a lease round ended: the dispatcher may have binds to send on. */
  onCapacityChange(): void;
  onInbound(sm: InboundSm): Promise<InboundAnswer>;
}

function poolFor(smsc: SmscConfig, logger: Logger, metrics: Metrics, onChange: () => void, onInbound: (sm: InboundSm) => Promise<InboundAnswer>): SmscPool {
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

export function wireBinds(ctx: DaemonContext, deps: BindDeps): SmscBinds {
  const { config, log, metrics } = ctx;
  const pools = new Map<string, SmscPool>();
  for (const smsc of config.smscs) {
    pools.set(smsc.name, poolFor(smsc, log, metrics, deps.onCapacityChange, deps.onInbound));
  }
  const capped = config.smscs.flatMap((s) => (s.maxBinds === undefined ? [] : [{ pool: pools.get(s.name)!, maxBinds: s.maxBinds }]));
  const bindQuota = new BindQuota({
    daemon: ctx.consumer,
    store: new BindLeases(deps.coordination, config.redis.prefix),
    capped,
    leaseTtlMs: config.coordination.bindLeaseTtlMs,
    graceMs: config.shutdown.graceMs,
    logger: log,
    onRound: (held) => {
      for (const [smsc, n] of held) metrics.bindLeases.set({ smsc }, n);
      deps.onCapacityChange();
    },
  });
  const canServe = (route: RouteConfig): boolean => route.smscs.some((s) => bindQuota.holdsAny(s));
  return {
    pools,
    capped: capped.length > 0,
    canServe,
    servableRoutes: () => (capped.length === 0 ? undefined : config.routes.filter(canServe).map((r) => r.name)),
    components: {
      bindLeases: {
        name: 'bind-leases',
        // Capped SMSCs bind only the slots leased here; the leases go back after the binds stopped.
        start: async () => {
          if (capped.length > 0) await bindQuota.start();
        },
        stop: () => bindQuota.stop(),
      },
      smscBinds: {
        name: 'smsc-binds',
        start: () => {
          for (const [name, p] of pools) if (!bindQuota.isCapped(name)) p.start();
        },
        stop: async () => {
          await Promise.all([...pools.values()].map((p) => p.stop(config.shutdown.graceMs)));
        },
      },
    },
  };
}
