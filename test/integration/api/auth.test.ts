/**
 * Who may use the HTTP API: no token, no access; a wrong token is refused; each operation needs
 * its scope; each token has a request rate; every request is logged without its body, and a token
 * passed in the query string never reaches the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import type { ParleyConfig } from '../../../src/config/types.ts';
import { API_ROUTES } from '../../../src/api/routes.ts';
import { createTwoWayHarness } from '../../support/two-way.ts';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { call, newTokens, tokenConfig, type Tokens } from '../../support/api.ts';
import { freePort } from '../../support/ports.ts';
import { recordingLogger, type LogLine } from '../../support/log-lines.ts';

let h: Harness;
let daemon: Daemon;
let config: ParleyConfig;
let base: string;
let tokens: Tokens;
const lines: LogLine[] = [];

beforeAll(async () => {
  h = await createTwoWayHarness();
  const sim = await h.startSim();
  tokens = newTokens();
  const port = await freePort();
  config = h.config({
    smscs: [simSmsc('sim', sim)],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' }],
    numbers: [{ address: '12345' }],
    api: { listen: `127.0.0.1:${port}`, tokens: tokenConfig(tokens), rate_limit: 1000, rate_burst: 1000 },
  });
  daemon = buildDaemon(config, { logger: recordingLogger(lines), schema: h.schema.schema, http: false });
  h.daemons.push(daemon);
  await daemon.service.start();
  base = `http://127.0.0.1:${daemon.apiPort}`;
});
afterAll(async () => {
  await h.close();
});

/** A request each operation accepts once authorised (bodies valid, ids that may not exist). */
function sample(route: (typeof API_ROUTES)[number]): { path: string; body?: unknown } {
  const path = route.path.replace('{id}', route.path.startsWith('/v1/conversations') ? '999999' : 'some-id');
  if (route.id === 'sendMessage') return { path, body: { to: '+14155550101', text: 'scope check' } };
  if (route.id === 'answerConversation') return { path, body: { text: 'hi' } };
  if (route.method === 'POST') return { path, body: {} };
  return { path };
}

describe('HTTP API: tokens and scopes', () => {
  it.each(API_ROUTES.map((r) => [r.id, r] as const))('%s: refused without a token and with a wrong one', async (_id, route) => {
    const { path, body } = sample(route);
    const none = await call(base, undefined, route.method, path, body);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('missing_token');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="parley"');
    const wrong = await call(base, 'not-a-token-of-ours', route.method, path, body);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_token');
    // A token's hash is not the token.
    const hashed = await call(base, (tokenConfig(tokens)[0] as { sha256: string }).sha256, route.method, path, body);
    expect(hashed.status).toBe(401);
  });

  const holders = [
    ['crm', 'send', ['send']],
    ['dashboard', 'read', ['read']],
    ['alice', 'agent', ['read', 'agent']],
    ['ops', 'all', ['send', 'read', 'agent']],
  ] as const;
  it.each(API_ROUTES.flatMap((r) => holders.map(([name, key, scopes]) => [r.id, name, r, key, scopes] as const)))(
    '%s as %s: allowed exactly when the token has the scope',
    async (_id, _name, route, key, scopes) => {
      const { path, body } = sample(route);
      if (route.id === 'followEvents') {
        const controller = new AbortController();
        const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens[key]}` }, signal: controller.signal });
        controller.abort();
        expect(res.status).toBe(route.scope === undefined || (scopes as readonly string[]).includes(route.scope) ? 200 : 403);
        return;
      }
      const res = await call(base, tokens[key], route.method, path, body);
      const allowed = route.scope === undefined || (scopes as readonly string[]).includes(route.scope);
      if (allowed) {
        expect([200, 202, 404]).toContain(res.status);
      } else {
        expect(res.status).toBe(403);
        expect(res.body.error).toEqual({ code: 'insufficient_scope', reason: expect.stringContaining(`needs the ${route.scope} scope`) });
      }
    },
  );

  it('GET /v1/token names the token and its scopes', async () => {
    expect((await call(base, tokens.agent, 'GET', '/v1/token')).body).toEqual({ name: 'alice', scopes: ['read', 'agent'] });
  });

  it('a token over its rate gets 429 with Retry-After, and other tokens are not held back', async () => {
    const port = await freePort();
    const sim = h.sims[0]!;
    const limited = buildDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' }],
        api: { listen: `127.0.0.1:${port}`, tokens: tokenConfig(tokens), rate_limit: 0.5, rate_burst: 3 },
      }),
      { logger: recordingLogger([]), schema: h.schema.schema, http: false },
    );
    h.daemons.push(limited);
    await limited.service.start();
    const at = `http://127.0.0.1:${limited.apiPort}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(at, tokens.read, 'GET', '/v1/conversations')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await call(at, tokens.read, 'GET', '/v1/conversations');
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(at, tokens.agent, 'GET', '/v1/conversations')).status).toBe(200);
  });
});

describe('HTTP API: reloading tokens', () => {
  it('a token removed from the config is refused after a reload, without a restart; its followers are ended', async () => {
    const follower = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${tokens.read}` } });
    expect(follower.status).toBe(200);
    const ended = follower.text();
    const next = { ...config, api: { ...config.api, tokens: config.api.tokens.filter((t) => t.name !== 'dashboard') } };
    expect(daemon.reload(next)).toMatchObject({ applied: expect.arrayContaining(['api (tokens, rate_limit, rate_burst)']), needsRestart: [] });
    await ended;
    expect((await call(base, tokens.read, 'GET', '/v1/conversations')).body.error.code).toBe('invalid_token');
    expect((await call(base, tokens.agent, 'GET', '/v1/conversations')).status).toBe(200);
    // Another listener needs a restart.
    const moved = { ...next, api: { ...next.api, listen: { host: '127.0.0.1', port: 1 } } };
    expect(daemon.reload(moved).needsRestart).toContain('api.listen');
    daemon.reload(config);
    expect((await call(base, tokens.read, 'GET', '/v1/conversations')).status).toBe(200);
  });
});

describe('HTTP API: the request log', () => {
  it('logs every request with its token and status, never a body, and hides a token in the query', async () => {
    const secretText = 'my very private message text';
    const sent = await call(base, tokens.send, 'POST', '/v1/messages', { id: 'logged-1', to: '+14155550111', text: secretText });
    expect(sent.status).toBe(202);
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/events?access_token=${tokens.read}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
    await call(base, undefined, 'GET', '/v1/conversations');
    await call(base, tokens.read, 'GET', '/v1/conversations?customer=%2B14155550111&unanswered=true');

    const api = (): LogLine[] => lines.filter((l) => l.bindings.component === 'api' && l.msg === 'api request');
    const viaQuery = (): LogLine | undefined => api().find((l) => String(l.obj.path).startsWith('/v1/events?'));
    await h.until('the follower logged', () => viaQuery() !== undefined);
    const send = api().find((l) => l.obj.operation === 'sendMessage' && l.obj.token === 'crm');
    expect(send?.obj).toMatchObject({ method: 'POST', path: '/v1/messages', status: 202, token: 'crm', ms: expect.any(Number) });
    expect(viaQuery()?.obj).toMatchObject({ path: '/v1/events?access_token=***', status: 200, token: 'dashboard' });
    const anonymous = api().findLast((l) => l.obj.status === 401);
    expect(anonymous?.obj).toMatchObject({ path: '/v1/conversations', code: 'missing_token', token: undefined });
    await h.until('the filtered list logged', () => api().some((l) => String(l.obj.path).includes('customer=')));
    expect(api().find((l) => String(l.obj.path).includes('customer='))?.obj.path).toBe('/v1/conversations?customer=***&unanswered=true');
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('14155550111');
    expect(everything).not.toContain(secretText);
    for (const t of Object.values(tokens)) expect(everything).not.toContain(t);
  });
});
