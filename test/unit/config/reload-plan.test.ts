import { describe, expect, it } from 'vitest';
import { planReload } from '../../../src/config/reload-plan.ts';
import type { ParleyConfig } from '../../../src/config/types.ts';
import { validateConfig } from '../../../src/config/validate.ts';

type Raw = Record<string, unknown>;

const rule = (answer: string): Raw => ({ name: 'hello', keywords: ['HELLO'], actions: [{ reply: answer }] });
const token = (name: string, hex: string): Raw => ({ name, sha256: hex.repeat(64), scopes: ['send'] });

/** A running daemon's config: two SMSCs, two routes, a number with a rule, a webhook. */
const base = (): Raw => ({
  smscs: [
    { name: 'a', host: '127.0.0.1', system_id: 'parley' },
    { name: 'b', host: '127.0.0.2', system_id: 'parley' },
  ],
  routes: [
    { name: 'us', prefixes: ['+1'], smscs: ['a'], tps: 10 },
    { name: 'rest', prefixes: ['*'], smscs: ['b'], tps: 20 },
  ],
  numbers: [{ address: '12345', rules: [rule('hi')] }],
  webhooks: [{ name: 'crm', url: 'https://crm.example/hook', secret: 'a-long-enough-secret-for-hmac', subscribe: ['message.status'] }],
  api: { listen: '127.0.0.1:8080', tokens: [token('app', 'a')] },
});

const config = (change: (raw: Raw) => void = () => {}): ParleyConfig => {
  const raw = base();
  change(raw);
  return validateConfig(raw);
};
const routes = (raw: Raw): Raw[] => raw.routes as Raw[];

describe('planReload', () => {
  it.each<[string, (raw: Raw) => void, { applied: string[]; needsRestart: string[] }]>([
    ['nothing changed', () => {}, { applied: [], needsRestart: [] }],
    [
      'a keyword rule',
      (raw) => ((raw.numbers as Raw[])[0]!.rules = [rule('hello there')]),
      { applied: ['numbers (compliance, synonyms, rules, unmatched)', 'webhooks'], needsRestart: [] },
    ],
    [
      'a webhook subscription',
      (raw) => ((raw.webhooks as Raw[])[0]!.subscribe = ['message.status', 'message.inbound']),
      { applied: ['numbers (compliance, synonyms, rules, unmatched)', 'webhooks'], needsRestart: [] },
    ],
    ['a route rate', (raw) => Object.assign(routes(raw)[0]!, { tps: 50, burst: 60 }), { applied: ['routes.us: tps 50, burst 60'], needsRestart: [] }],
    [
      'a route rate and its prefixes',
      (raw) => Object.assign(routes(raw)[1]!, { tps: 5, burst: 5, prefixes: ['+44'] }),
      { applied: ['routes.rest: tps 5, burst 5'], needsRestart: ['routes.rest (prefixes, smscs, default_from, uncertain_submit, uncertain_max_attempts)'] },
    ],
    [
      'a route added and one removed',
      (raw) => (raw.routes = [routes(raw)[0]!, { name: 'uk', prefixes: ['+44'], smscs: ['b'], tps: 1 }]),
      { applied: [], needsRestart: ['routes: uk is new', 'routes: rest was removed'] },
    ],
    [
      'API tokens',
      (raw) => ((raw.api as Raw).tokens = [token('app2', 'b')]),
      { applied: ['api (tokens, rate_limit, rate_burst)'], needsRestart: [] },
    ],
    ['the API listener', (raw) => ((raw.api as Raw).listen = '127.0.0.1:8081'), { applied: [], needsRestart: ['api.listen'] }],
    ['an SMSC password', (raw) => ((raw.smscs as Raw[])[0]!.password = 'secret'), { applied: [], needsRestart: ['smscs (addresses, credentials, binds)'] }],
    [
      'timings read only at start',
      (raw) => Object.assign(raw, { receipts: { sweep_interval: '5s' }, shutdown: { grace: '3s' }, daemon: { takeover: '30s' } }),
      { applied: [], needsRestart: ['daemon', 'shutdown', 'receipts'] },
    ],
    // Before the plan was a function of its own, these two changed nothing and said nothing.
    ['retention', (raw) => (raw.retention = { messages: '30d' }), { applied: [], needsRestart: ['retention'] }],
    ['coordination', (raw) => (raw.coordination = { lease_timeout: '2s' }), { applied: [], needsRestart: ['coordination'] }],
  ])('%s', (_name, change, expected) => {
    const plan = planReload(config(), config(change));
    expect({ applied: plan.applied, needsRestart: plan.needsRestart }).toEqual(expected);
  });

  it('runs the new numbers, webhooks, rates and tokens, and keeps everything else as started', () => {
    const current = config();
    const next = config((raw) => {
      Object.assign(routes(raw)[0]!, { tps: 50, burst: 60 });
      routes(raw)[1]!.prefixes = ['+44'];
      raw.routes = [...routes(raw), { name: 'uk', prefixes: ['+44'], smscs: ['b'], tps: 1 }];
      (raw.numbers as Raw[])[0]!.rules = [rule('bye')];
      (raw.api as Raw).tokens = [token('app2', 'b')];
      (raw.smscs as Raw[])[0]!.host = '10.0.0.1';
    });
    const plan = planReload(current, next);
    expect(plan.numbersAndWebhooks).toBe(true);
    expect(plan.routeRates).toEqual([{ route: 'us', tps: 50, burst: 60 }]);
    expect(plan.api).toEqual(next.api);
    expect(plan.running.numbers).toEqual(next.numbers);
    expect(plan.running.api).toEqual(next.api);
    expect(plan.running.routes.map((r) => [r.name, r.tps, r.prefixes])).toEqual([
      ['us', 50, ['+1']],
      ['rest', 20, ['*']],
    ]);
    expect(plan.running.smscs).toEqual(current.smscs);
  });

  it('without an API running, a change to the API waits for a restart that starts it', () => {
    const withoutApi = (raw: Raw): void => void delete raw.api;
    const plan = planReload(config(withoutApi), config((raw) => {
      withoutApi(raw);
      raw.api = { tokens: [token('app', 'a')] };
    }));
    expect(plan.api).toBeUndefined();
    expect(plan.needsRestart).toEqual(['api.listen']);
    expect(plan.running.api.tokens).toEqual([]);
  });
});
