/**
 * Every metric Parley exports, in one place (prom-client). Names follow Prometheus conventions:
 * `parley_` prefix, base units, `_total` counters, `_seconds` histograms (Node's default process
 * metrics keep their stock `process_`/`nodejs_` names). Labels stay bounded:
 * route, SMSC, bind, state, status names; never a number or a message id.
 *
 * The metrics are defined per flow (outbound, binds, inbound, API, operations), each group in its
 * own file; `Metrics` holds them all, flat (`metrics.submits`), on one registry.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { apiMetrics, type ApiMetrics } from './api-metrics.ts';
import { bindMetrics, type BindMetrics } from './bind-metrics.ts';
import { inboundMetrics, type InboundMetrics } from './inbound-metrics.ts';
import { operationsMetrics, type OperationsMetrics } from './operations-metrics.ts';
import { outboundMetrics, type OutboundMetrics } from './outbound-metrics.ts';
import { BIND_STATES, type BindState } from '../smpp/bind-types.ts';
import { PARLEY_VERSION } from '../lib/version.ts';

/** Every group's metrics, as fields of Metrics. */
// The interface declares the fields the constructor's Object.assign fills from each group, so
// callers keep reading metrics.submits etc. without a copy of every field here.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see above
export interface Metrics extends OutboundMetrics, BindMetrics, InboundMetrics, ApiMetrics, OperationsMetrics {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    Object.assign(this, outboundMetrics(r), bindMetrics(r), inboundMetrics(r), apiMetrics(r), operationsMetrics(r));
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
