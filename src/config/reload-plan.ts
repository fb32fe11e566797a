/**
 * What a re-read config (SIGHUP) changes in a running daemon, decided without touching it: the
 * numbers (compliance, synonyms, rules) and webhooks apply at once, as do route rates and the API's
 * tokens and rates; everything else (addresses, credentials, binds, routing, listeners, timings)
 * waits for a restart and is named so the operator knows. `buildDaemon` carries the plan out.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ApiConfig, ParleyConfig, RouteConfig } from './types.ts';

export interface RouteRate {
  readonly route: string;
  readonly tps: number;
  readonly burst: number;
}

export interface ReloadPlan {
  /** Numbers or webhooks changed: rules, compliance, webhook targets and subscriptions are replaced. */
  readonly numbersAndWebhooks: boolean;
  /** Routes whose rate changed, applied to their buckets at once. */
  readonly routeRates: readonly RouteRate[];
  /** New API tokens and rates, when the API runs and its listener is unchanged. */
  readonly api?: ApiConfig;
  /** What now runs with the new values, as the log and `parley reload` say it. */
  readonly applied: readonly string[];
  /** Keys that changed but only take effect at the next start. */
  readonly needsRestart: readonly string[];
  /** The config in force once the plan is carried out: the new values that apply, the rest as running. */
  readonly running: ParleyConfig;
}

/** Top-level sections read only at start. */
const RESTART_ONLY = [
  'smscs',
  'database',
  'redis',
  'http',
  'log',
  'daemon',
  'intake',
  'store',
  'shutdown',
  'receipts',
  'conversations',
  'coordination',
  'health',
  'retention',
] as const satisfies readonly (keyof ParleyConfig)[];

// Deep equality regardless of key order: the same config written in another order is no change.
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);
const withoutRate = (r: RouteConfig): unknown => ({ ...r, tps: 0, burst: 0 });

/**
 * Compares the config in force with the new one. The API runs when the daemon started with
 * `api.listen` set (which no reload changes in `running`), so that is read from `current`.
 */
export function planReload(current: ParleyConfig, next: ParleyConfig): ReloadPlan {
  const applied: string[] = [];
  const needsRestart: string[] = [];

  const numbersAndWebhooks = !same(current.numbers, next.numbers) || !same(current.webhooks, next.webhooks);
  if (numbersAndWebhooks) applied.push('numbers (compliance, synonyms, rules, unmatched)', 'webhooks');

  const routeRates: RouteRate[] = [];
  const oldRoutes = new Map(current.routes.map((r) => [r.name, r]));
  for (const route of next.routes) {
    const old = oldRoutes.get(route.name);
    oldRoutes.delete(route.name);
    if (!old) {
      needsRestart.push(`routes: ${route.name} is new`);
      continue;
    }
    if (old.tps !== route.tps || old.burst !== route.burst) {
      routeRates.push({ route: route.name, tps: route.tps, burst: route.burst });
      applied.push(`routes.${route.name}: tps ${route.tps}, burst ${route.burst}`);
    }
    if (!same(withoutRate(old), withoutRate(route))) needsRestart.push(`routes.${route.name} (prefixes, smscs, default_from, uncertain_submit, uncertain_max_attempts)`);
  }
  for (const gone of oldRoutes.keys()) needsRestart.push(`routes: ${gone} was removed`);

  // Tokens and rates apply at once (a token can be rotated or revoked without a restart); another
  // listener, or an API turned on or off, needs one.
  const apiRuns = current.api.listen !== undefined;
  const apiApplies = apiRuns && same(current.api.listen, next.api.listen);
  let api: ApiConfig | undefined;
  if (!same(current.api, next.api)) {
    if (apiApplies) {
      api = next.api;
      applied.push('api (tokens, rate_limit, rate_burst)');
    } else needsRestart.push('api.listen');
  }

  for (const key of RESTART_ONLY) {
    if (!same(current[key], next[key])) needsRestart.push(key === 'smscs' ? 'smscs (addresses, credentials, binds)' : key);
  }

  const running: ParleyConfig = {
    ...current,
    api: api ?? current.api,
    numbers: next.numbers,
    webhooks: next.webhooks,
    routes: current.routes.map((r) => {
      const rate = routeRates.find((x) => x.route === r.name);
      return rate ? { ...r, tps: rate.tps, burst: rate.burst } : r;
    }),
  };
  return { numbersAndWebhooks, routeRates, ...(api ? { api } : {}), applied, needsRestart, running };
}
