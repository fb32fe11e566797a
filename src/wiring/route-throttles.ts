/**
 * Each route's throttle, shared by every daemon: a token bucket in Redis, with this daemon's share
 * (rate ÷ live daemons) as the fallback while Redis does not answer. The adapter handed to the
 * dispatcher records what the throttle does (waits, slow-downs, fallbacks) as metrics, so the
 * dispatcher itself knows nothing of Prometheus.
 */
import type { RouteConfig } from '../config/types.ts';
import { SharedRouteThrottle, type RouteThrottle } from '../outbound/route-throttle.ts';
import type { RouteBuckets } from '../queue/coordination.ts';
import type { DaemonContext } from './context.ts';

/** Recovery after a slow-down, per accepted segment, as a share of the configured rate (as AdaptiveThrottle). */
const RECOVERY_STEP = 0.01;
const SLOWDOWN_INTERVAL_MS = 1000;
const MIN_FACTOR = 1 / 64;

export class RouteThrottles {
  private readonly buckets = new Map<string, SharedRouteThrottle>();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly shared: RouteBuckets,
    /** Live daemons as last counted by the heartbeat: the fallback share's divisor. */
    private readonly liveDaemons: () => number,
  ) {}

  /** The throttle the dispatcher calls right before each submit on the route. */
  throttleFor(route: RouteConfig): RouteThrottle {
    const { metrics, log } = this.ctx;
    const labels = { route: route.name };
    const bucket = new SharedRouteThrottle({
      route: route.name,
      rate: route.tps,
      burst: route.burst,
      bucket: {
        lease: (rate, burst, want, accepted) => this.shared.lease(route.name, rate, burst, want, accepted, RECOVERY_STEP),
        slowDown: () => this.shared.slowDown(route.name, SLOWDOWN_INTERVAL_MS, MIN_FACTOR),
      },
      liveDaemons: this.liveDaemons,
      onModeChange: (isShared, reason) => {
        metrics.throttleShared.set(labels, isShared ? 1 : 0);
        if (isShared) {
          log.info({ route: route.name }, `route throttle: ${reason}`);
        } else {
          metrics.throttleFallbacks.inc(labels);
          log.warn({ route: route.name }, `route throttle: ${reason}`);
        }
        metrics.throttleRate.set(labels, bucket.currentRate);
      },
    });
    this.buckets.set(route.name, bucket);
    metrics.throttleRate.set(labels, route.tps);
    metrics.throttleShared.set(labels, 1);
    return {
      acquire: async (signal) => {
        const t0 = performance.now();
        const got = await bucket.acquire(signal);
        const waited = performance.now() - t0;
        if (waited > 1) metrics.throttleWait.inc(labels, waited / 1000);
        return got;
      },
      onAccepted: () => bucket.onAccepted(),
      onThrottled: () => {
        bucket.onThrottled();
        metrics.throttleRate.set(labels, bucket.currentRate);
      },
      get currentRate() {
        return bucket.currentRate;
      },
    };
  }

  /** A reload changed the route's rate: applies at once, binds untouched. */
  reconfigure(route: string, tps: number, burst: number): void {
    this.buckets.get(route)?.reconfigure(tps, burst);
    this.ctx.metrics.throttleRate.set({ route }, tps);
  }

  /** Tokens left per route, for the scrape-time gauge. */
  available(): [route: string, tokens: number][] {
    return [...this.buckets].map(([route, bucket]) => [route, bucket.available]);
  }
}
