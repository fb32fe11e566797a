/**
 * Whether this daemon can do its work, and what it does when it cannot: the dependency monitor
 * probes Postgres and Redis every second on connections of their own (a pipeline that meets a
 * fault asks for a probe at once); `/readyz` lists the problems from the probes' last answers, the
 * routes without a bound bind and the stalled pipelines. While Postgres is down every pipeline
 * pauses on its own (each retries its transient faults with backoff); past
 * `database.outage_unbind_after` the binds are unbound, so the SMSCs keep receipts and replies
 * for us, and they bind again when Postgres answers.
 */
import type { RouteConfig } from '../config/types.ts';
import { DependencyMonitor, type DependencyName, type DependencyStatus } from '../lib/dependency-monitor.ts';
import { pingRedis, type RedisClient } from '../queue/redis.ts';
import type { Component } from '../service.ts';
import type { SmscPool } from '../smpp/smsc-pool.ts';
import type { DbProbe } from '../store/db.ts';
import type { DaemonContext } from './context.ts';

export interface ReadinessDeps {
  readonly dbProbe: DbProbe;
  readonly redis: RedisClient;
  readonly pools: ReadonlyMap<string, SmscPool>;
  /** Whether this daemon serves the route (its SMSCs may all be leased to other daemons). */
  canServe(route: RouteConfig): boolean;
}

export interface Readiness {
  readonly dependencies: DependencyMonitor;
  /** A pipeline met a fault: probe that dependency now rather than at the next tick. */
  nudge(dependency: DependencyName): void;
  /** What keeps the daemon from being ready, empty when it is: `/readyz`. */
  problems(): string[];
  /** Postgres answers, and has for a takeover period since it came back, so stale heartbeats are dead daemons'. */
  heartbeatsTrusted(): boolean;
  readonly component: Component;
}

export function wireReadiness(ctx: DaemonContext, deps: ReadinessDeps): Readiness {
  const { config, log, metrics, stalls } = ctx;
  /** Binds unbound because Postgres has been down too long; released when it answers. */
  let outageTimer: NodeJS.Timeout | undefined;
  let bindsHeld = false;
  /** When Postgres last came back after an outage (0: never down). */
  let postgresBackAt = 0;

  const dependencies = new DependencyMonitor({
    probes: {
      postgres: () => deps.dbProbe.probe(),
      redis: () => pingRedis(deps.redis),
    },
    onChange: (status) => onDependencyChange(status),
  });

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
        for (const pool of deps.pools.values()) pool.hold(reason);
      }, config.database.outageUnbindAfterMs);
      outageTimer.unref();
    } else {
      postgresBackAt = Date.now();
      if (bindsHeld) {
        bindsHeld = false;
        for (const pool of deps.pools.values()) pool.release();
      }
    }
  }

  return {
    dependencies,
    nudge: (dependency) => dependencies.nudge(dependency),
    problems: () => {
      // From the probes' last answers: a readiness check never waits on a service that is down.
      const problems: string[] = dependencies.problems();
      for (const route of config.routes) {
        // A route whose SMSCs are all leased to other daemons (max_binds) is served by them.
        if (deps.canServe(route) && !route.smscs.some((s) => deps.pools.get(s)?.canSubmit)) problems.push(`route ${route.name}: no bound bind on ${route.smscs.join(', ')}`);
      }
      for (const s of stalls.stalled()) {
        problems.push(`pipeline ${s.pipeline}: no progress for ${Math.round(s.stalledMs / 1000)} s with ${s.pending} item(s) waiting`);
      }
      return problems;
    },
    heartbeatsTrusted: () => dependencies.status('postgres').up && Date.now() - postgresBackAt >= config.daemon.takeoverMs,
    component: {
      name: 'dependency-monitor',
      start: async () => {
        for (const name of ['postgres', 'redis'] as const) metrics.dependencyUp.set({ dependency: name }, 1);
        dependencies.start();
      },
      stop: async () => {
        dependencies.stop();
        clearTimeout(outageTimer);
        await deps.dbProbe.close();
      },
    },
  };
}
