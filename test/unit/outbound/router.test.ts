/** Router.choose: a named route wins; otherwise the longest matching prefix; "*" is the fallback. */
import { describe, expect, it } from 'vitest';
import { Router } from '../../../src/outbound/router.ts';
import type { RouteConfig } from '../../../src/config/types.ts';

const route = (name: string, prefixes: string[]): RouteConfig => ({ name, prefixes, smscs: ['smsc-a'], tps: 10, burst: 10, uncertainSubmit: 'resend', uncertainMaxAttempts: 3 });

const routes = [
  route('uk', ['44']),
  route('uk-mobile', ['+447']),
  route('us', ['1']),
  route('fallback', ['*']),
];

describe('Router.choose', () => {
  const router = new Router(routes);
  // [destination, forced route, chosen route]
  const rows: [string, string | undefined, string][] = [
    ['447700900123', undefined, 'uk-mobile'],
    ['442079460000', undefined, 'uk'],
    ['12025550143', undefined, 'us'],
    ['4915112345678', undefined, 'fallback'],
    // A prefix written with + matches the digits without it (destinations are stored without +).
    ['4470', undefined, 'uk-mobile'],
    ['447700900123', 'us', 'us'],
    ['447700900123', 'fallback', 'fallback'],
  ];
  it.each(rows)('%s (route %s) -> %s', (to, forced, chosen) => {
    const choice = router.choose(to, forced);
    expect(choice.ok && choice.route.name).toBe(chosen);
  });

  it('a named route that does not exist is refused, whatever the prefixes say', () => {
    expect(router.choose('447700900123', 'mars')).toEqual({ ok: false, code: 'unknown_route', reason: 'no route is named "mars"' });
  });

  it('without "*", a destination no prefix matches has no route (and the reason shows only its start)', () => {
    const choice = new Router([route('uk', ['44'])]).choose('4915112345678');
    expect(choice).toEqual({ ok: false, code: 'no_route', reason: "no route's prefixes match 4915…" });
  });

  it('equal prefixes: the route listed first keeps it', () => {
    const choice = new Router([route('first', ['44']), route('second', ['44'])]).choose('447700900123');
    expect(choice.ok && choice.route.name).toBe('first');
  });

  it('route(name) looks a route up by name', () => {
    expect(router.route('us')?.prefixes).toEqual(['1']);
    expect(router.route('nope')).toBeUndefined();
  });
});
