import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, reassemble, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ receiptRetryMs: 50, receiptDelayMs: 0, ...options });
  cleanups.push(() => s.stop());
  return s;
}

async function call(s: Simulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${s.controlPort}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('simulator control endpoint', () => {
  it('listens on loopback on its own port, and not at all with controlPort: false', async () => {
    const s = await sim();
    expect(s.controlPort).toBeGreaterThan(0);
    expect(s.controlPort).not.toBe(s.port);
    expect(await call(s, 'GET', '/healthz')).toEqual({ status: 200, json: { ok: true, state: 'running' } });
    const off = await sim({ controlPort: false });
    expect(off.controlPort).toBeUndefined();
  });

  it('GET /stats, /binds and /arrivals?since= follow the traffic', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port, systemId: 'acme' }, cleanups);
    const resps = await c.submitMany(5);
    await waitFor(() => s.stats.receipts.acked === 5, 2000, 'receipts acked');
    const stats = await call(s, 'GET', '/stats');
    expect(stats.status).toBe(200);
    expect(stats.json).toMatchObject({ state: 'running', submits: 5, binds: { current: 1, transceiver: 1 }, receipts: { acked: 5, pending: 0 } });
    const binds = await call(s, 'GET', '/binds');
    expect(binds.json).toMatchObject([{ systemId: 'acme', type: 'transceiver', submits: 5, receiptsAcked: 5 }]);
    const all = await call(s, 'GET', '/arrivals');
    expect(all.json.last).toBe(5);
    expect(all.json.arrivals.map((a: { messageId: string }) => a.messageId)).toEqual(resps.map((r) => r.message_id));
    expect(all.json.arrivals[0]).toMatchObject({ seq: 1, systemId: 'acme', destination: '447700900001', concat: null, status: 'accepted' });
    const later = await call(s, 'GET', '/arrivals?since=3&limit=1');
    expect(later.json.arrivals.map((a: { seq: number }) => a.seq)).toEqual([4]);
    expect((await call(s, 'GET', '/arrivals?since=-1')).status).toBe(400);
  });

  it('POST /mo injects a customer reply, concatenated when long', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    const short = await call(s, 'POST', '/mo', { from: '447700900123', to: '12345', text: 'YES' });
    expect(short).toEqual({ status: 202, json: { parts: 1, dataCoding: 0 } });
    const text = 'A rather long answer that will not fit in a single message at all. '.repeat(4).trim();
    const long = await call(s, 'POST', '/mo', { from: '447700900123', to: '12345', text, concatenation: 'sar', shuffle: true });
    expect(long.status).toBe(202);
    expect(long.json.parts).toBeGreaterThan(1);
    await waitFor(() => c.delivered.length === 1 + long.json.parts, 2000, 'all parts');
    expect(reassemble(c.delivered)).toEqual(['YES', text]);
    expect((await call(s, 'POST', '/mo', { from: '1', to: '2' })).status).toBe(400);
    expect((await call(s, 'POST', '/mo', '{not json')).json.error).toMatch(/not valid JSON/);
  });

  it('POST /reset forgets arrivals and counters; binds stay', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submitMany(3, { registered_delivery: 0 });
    expect(await call(s, 'POST', '/reset')).toEqual({ status: 200, json: { ok: true } });
    const stats = await call(s, 'GET', '/stats');
    expect(stats.json).toMatchObject({ submits: 0, arrivals: 0, binds: { current: 1 } });
    expect((await call(s, 'GET', '/arrivals')).json).toEqual({ arrivals: [], last: 0 });
  });

  it('GET and POST /options read and change behaviour', async () => {
    const s = await sim({ receiptMix: { DELIVRD: 1 } });
    const before = await call(s, 'GET', '/options');
    expect(before.json).toMatchObject({ idFormat: 'hex', tps: 0, receiptMix: { DELIVRD: 1 }, port: s.port, controlPort: s.controlPort });
    const changed = await call(s, 'POST', '/options', {
      tps: 5,
      idFormat: 'decimal',
      receiptDelayMs: [10, 20],
      handset: { rules: [{ match: '/^ping$/i', reply: 'pong' }] },
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ tps: 5, idFormat: 'decimal', receiptDelayMs: { minMs: 10, maxMs: 20 } });
    expect(changed.json.handset.rules).toEqual([{ match: '/^ping$/i', reply: 'pong', delayMs: 0 }]);
    const c = await openSimClient({ port: s.port }, cleanups);
    const r = await c.submit({ text: 'PING', registered_delivery: 0 });
    expect(r.message_id).toMatch(/^[0-9]+$/);
    await waitFor(() => c.delivered.length === 1, 2000, 'handset answer');
    expect(reassemble(c.delivered)).toEqual(['pong']);
    const refused = await call(s, 'POST', '/options', { tps: 'fast' });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/option tps/);
    expect((await call(s, 'POST', '/options', { port: 1 })).status).toBe(400);
  });

  it('answers 404 for unknown routes and 405 for a wrong method', async () => {
    const s = await sim();
    expect((await call(s, 'GET', '/nope')).status).toBe(404);
    expect((await call(s, 'DELETE', '/stats')).status).toBe(405);
  });
});
