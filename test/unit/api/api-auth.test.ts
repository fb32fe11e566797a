/**
 * Tokens, scopes and the rate per token, on a driven clock.
 */
import { describe, expect, it } from 'vitest';
import { ApiAuth, bearerOf, hashToken } from '../../../src/api/api-auth.ts';

const tokens = [
  { name: 'crm', sha256: hashToken('crm-token'), scopes: ['send'] as const },
  { name: 'alice', sha256: hashToken('alice-token').toUpperCase(), scopes: ['read', 'agent'] as const },
];

describe('API auth', () => {
  it('reads the bearer token of an Authorization header', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer   abc  ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('knows tokens by their hash (any case), and checks the scope after the token', () => {
    const auth = new ApiAuth(tokens, 10, 10, () => 0);
    expect(auth.authorize(undefined, 'send')).toMatchObject({ ok: false, status: 401, code: 'missing_token' });
    expect(auth.authorize('nope', 'send')).toMatchObject({ ok: false, status: 401, code: 'invalid_token' });
    expect(auth.authorize(hashToken('crm-token'), 'send')).toMatchObject({ ok: false, code: 'invalid_token' });
    expect(auth.authorize('crm-token', 'send')).toEqual({ ok: true, caller: { name: 'crm', scopes: ['send'] } });
    expect(auth.authorize('crm-token', 'read')).toMatchObject({ ok: false, status: 403, code: 'insufficient_scope' });
    expect(auth.authorize('alice-token', 'agent')).toMatchObject({ ok: true, caller: { name: 'alice' } });
    expect(auth.authorize('alice-token', undefined)).toMatchObject({ ok: true });
  });

  it('holds each token to its rate: a burst, then one per 1/rate seconds, each token on its own', () => {
    let now = 0;
    const auth = new ApiAuth(tokens, 2, 3, () => now);
    const results = (): (number | true)[] =>
      Array.from({ length: 4 }, () => {
        const r = auth.authorize('crm-token', 'send');
        return r.ok ? true : r.status;
      });
    expect(results()).toEqual([true, true, true, 429]);
    expect(auth.authorize('crm-token', 'send')).toMatchObject({ status: 429, code: 'rate_limited', retryAfterS: 1 });
    expect(auth.authorize('alice-token', 'read')).toMatchObject({ ok: true });
    now += 500; // half a second at 2/s: one more
    expect(auth.authorize('crm-token', 'send')).toMatchObject({ ok: true });
    expect(auth.authorize('crm-token', 'send')).toMatchObject({ status: 429 });
    // A refused scope still counts against the rate: probing costs the same as asking.
    now += 10_000;
    for (let i = 0; i < 3; i++) expect(auth.authorize('crm-token', 'agent')).toMatchObject({ status: 403 });
    expect(auth.authorize('crm-token', 'send')).toMatchObject({ status: 429 });
  });
});
