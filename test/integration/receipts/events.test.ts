import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { verifyWebhook } from '../../../src/domain/webhook-signature.ts';

let h: Harness;
let server: http.Server | undefined;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that fails the first `failures` requests for each event. */
async function webhookServer(failures: number): Promise<{ url: string; received: Received[]; answered: number[] }> {
  const received: Received[] = [];
  const answered: number[] = [];
  const seen = new Map<string, number>();
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const key = body;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const status = n <= failures ? 503 : 200;
      answered.push(status);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, received, answered };
}

describe('status events and webhooks', () => {
  it('publishes every status change on the events stream, and signed webhooks retried until they succeed', async () => {
    const hook = await webhookServer(2);
    const sim = await h.startSim({ receiptDelayMs: 20 });
    const daemon = await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
        webhooks: [{ name: 'crm', url: hook.url, secret: 's3cret-s3cret-s3cret', timeout: '2s', max_attempts: 5, subscribe: ['message.status'] }],
      }),
    );
    void daemon;
    await h.send([{ id: 'ev1', to: '+14155550001', text: 'hello', metadata: { order: 42 } }]);
    await h.until('delivered event', async () => (await h.redis.xlen(h.keys.events)) >= 3);
    const events = (await h.redis.xrange(h.keys.events, '-', '+')).map(([, f]) => JSON.parse(f[1]!));
    expect(events.map((e) => [e.status, e.previous])).toEqual([
      ['queued', null],
      ['submitted', 'queued'],
      ['delivered', 'submitted'],
    ]);
    expect(events[2]).toEqual({
      type: 'message.status',
      id: 'ev1',
      status: 'delivered',
      previous: 'submitted',
      segments: 1,
      delivered_segments: 1,
      error: null,
      smsc: 'sim',
      route: 'default',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      metadata: { order: 42 },
      possible_duplicate: false,
    });

    // Three events, each failed twice (503) then delivered: 9 requests, retried with backoff.
    await h.until('webhooks delivered', async () => {
      const rows = await h.schema.db.selectFrom('webhook_deliveries').select('status').execute();
      return rows.length === 3 && rows.every((r) => r.status === 'delivered');
    }, 30_000);
    const rows = await h.schema.db.selectFrom('webhook_deliveries').selectAll().execute();
    for (const r of rows) expect(r).toMatchObject({ webhook: 'crm', attempts: 3, last_status: 200, status: 'delivered' });
    expect(hook.answered.filter((s) => s === 503)).toHaveLength(6);
    for (const r of hook.received) {
      const ts = r.headers['x-parley-timestamp'] as string;
      expect(verifyWebhook('s3cret-s3cret-s3cret', ts, r.body, r.headers['x-parley-signature'] as string)).toBe(true);
      expect(verifyWebhook('wrong', ts, r.body, r.headers['x-parley-signature'] as string)).toBe(false);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const bodies = hook.received.filter((_, i) => hook.answered[i] === 200).map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.status).sort()).toEqual(['delivered', 'queued', 'submitted']);
    expect(bodies.find((b) => b.status === 'delivered')).toEqual(events[2]);
  }, 60_000);

  it('a webhook that never succeeds is recorded as failed after its last attempt', async () => {
    const hook = await webhookServer(100);
    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
        webhooks: [{ name: 'down', url: hook.url, secret: 'x-secret-x-secret', timeout: '1s', max_attempts: 2, subscribe: ['message.status'] }],
      }),
    );
    await h.send([{ id: 'ev2', to: '+14155550001', text: 'hello', dlr: false }]);
    await h.until('failed deliveries recorded', async () => {
      const rows = await h.schema.db.selectFrom('webhook_deliveries').select('status').execute();
      return rows.length === 2 && rows.every((r) => r.status === 'failed');
    }, 30_000);
    const rows = await h.schema.db.selectFrom('webhook_deliveries').selectAll().execute();
    for (const r of rows) expect(r).toMatchObject({ attempts: 2, last_status: 503, last_error: 'HTTP 503', finished_at: expect.any(Date) });
  }, 60_000);
});
