/**
 * Picks a message's route: the one named in the payload, else the longest destination prefix
 * ("*" matches everything, as the shortest prefix).
 */
import type { RouteConfig } from '../config/types.ts';
import { normaliseAddress } from '../domain/address.ts';

export type RouteChoice =
  | { readonly ok: true; readonly route: RouteConfig }
  | { readonly ok: false; readonly code: 'unknown_route' | 'no_route'; readonly reason: string };

/** A route's default_from, spelled as a payload's `from` is (domain/address.ts); the config keeps it as written. */
export function defaultFromOf(route: RouteConfig): string | undefined {
  return route.defaultFrom === undefined ? undefined : normaliseAddress(route.defaultFrom);
}

export class Router {
  private readonly byName: Map<string, RouteConfig>;
  /** (prefix, route) pairs, longest prefix first. */
  private readonly prefixes: readonly (readonly [string, RouteConfig])[];

  constructor(routes: readonly RouteConfig[]) {
    this.byName = new Map(routes.map((r) => [r.name, r]));
    const pairs: [string, RouteConfig][] = [];
    for (const r of routes) for (const p of r.prefixes) pairs.push([p === '*' ? '' : normaliseAddress(p), r]);
    this.prefixes = pairs.sort((a, b) => b[0].length - a[0].length);
  }

  route(name: string): RouteConfig | undefined {
    return this.byName.get(name);
  }

  choose(to: string, forced?: string): RouteChoice {
    if (forced !== undefined) {
      const route = this.byName.get(forced);
      return route ? { ok: true, route } : { ok: false, code: 'unknown_route', reason: `no route is named "${forced}"` };
    }
    for (const [prefix, route] of this.prefixes) if (to.startsWith(prefix)) return { ok: true, route };
    return { ok: false, code: 'no_route', reason: `no route's prefixes match ${to.slice(0, 4)}…` };
  }
}
