/**
 * The api section of the configuration: off by default, and every problem reported at its key.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { redactConfig } from '../../../src/config/redact.ts';

const BASE = {
  smscs: [{ name: 'a', host: '127.0.0.1', system_id: 'parley' }],
  routes: [{ name: 'r', smscs: ['a'], tps: 10 }],
};
const HASH = 'a'.repeat(64);

function problems(api: unknown): { path: string; reason: string }[] {
  try {
    validateConfig({ ...BASE, api });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => ({ path: p.path, reason: p.reason }));
    throw err;
  }
  return [];
}

describe('api configuration', () => {
  it('is off by default, with no token and a rate of 20 a second', () => {
    expect(validateConfig(BASE).api).toEqual({ tokens: [], rateLimit: 20, rateBurst: 40 });
  });

  it('reads a listener and tokens', () => {
    const api = validateConfig({ ...BASE, api: { listen: '127.0.0.1:8080', tokens: [{ name: 'crm', sha256: HASH.toUpperCase(), scopes: ['send', 'read'] }] } }).api;
    expect(api).toEqual({ listen: { host: '127.0.0.1', port: 8080 }, tokens: [{ name: 'crm', sha256: HASH.toUpperCase(), scopes: ['send', 'read'] }], rateLimit: 20, rateBurst: 40 });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a listener without tokens', { listen: '127.0.0.1:8080' }, 'api.tokens', /at least one token when api.listen is set/],
    ['a bad listener', { listen: '8080' }, 'api.listen', /host:port/],
    ['a hash that is not SHA-256 hex', { tokens: [{ name: 'x', sha256: 'secret', scopes: ['read'] }] }, 'api.tokens[0].sha256', /64 hex digits/],
    ['an unknown scope', { tokens: [{ name: 'x', sha256: HASH, scopes: ['admin'] }] }, 'api.tokens[0].scopes[0]', /send, read, agent/],
    ['no scope', { tokens: [{ name: 'x', sha256: HASH, scopes: [] }] }, 'api.tokens[0].scopes', /at least one scope/],
    ['a scope twice', { tokens: [{ name: 'x', sha256: HASH, scopes: ['read', 'read'] }] }, 'api.tokens[0].scopes[1]', /already listed/],
    ['two tokens of one name', { tokens: [{ name: 'x', sha256: HASH, scopes: ['read'] }, { name: 'x', sha256: 'b'.repeat(64), scopes: ['read'] }] }, 'api.tokens[1].name', /already the name/],
    ['one hash twice', { tokens: [{ name: 'x', sha256: HASH, scopes: ['read'] }, { name: 'y', sha256: HASH, scopes: ['read'] }] }, 'api.tokens[1].sha256', /same hash/],
    ['a rate of 0', { rate_limit: 0 }, 'api.rate_limit', /positive/],
    ['an unknown key', { tokenz: [] }, 'api.tokenz', /unknown key/],
  ])('%s is refused at its key', (_what, api, path, reason) => {
    expect(problems(api)).toEqual([{ path, reason: expect.stringMatching(reason) }]);
  });

  it('hides the token hashes when the config is printed', () => {
    const config = validateConfig({ ...BASE, api: { tokens: [{ name: 'crm', sha256: HASH, scopes: ['read'] }] } });
    expect(JSON.stringify(redactConfig(config))).not.toContain(HASH);
  });
});
