/**
 * Issue 9, webhooks: an answer is streamed with a hard cap (a 100 MB answer neither reaches
 * memory nor is read to its end: the request is aborted at 64 KB and the fallback is sent), one
 * slow webhook never delays other customers' answers, and every POST carries a unique delivery id.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, replyRows, sleep } from '../../support/two-way.ts';
import { killed, startChild } from '../../support/child.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/services.ts';
import { MAX_ANSWER_BYTES, postWebhook } from '../../../src/webhooks/post.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
  for (const close of closers.splice(0)) await close();
});

const SECRET = 'webhook-limits-secret-0123';
const ORDER = String.raw`^ORDER\s+(?<order>\d+)$`;
const FALLBACK = 'Sorry, we cannot look up order {{ groups.order }} right now.';

interface StreamingServer {
  readonly url: string;
  /** Octets of answer written, per request. */
  readonly sent: number[];
  /** Whether each request's connection was closed by the client before the answer ended. */
  readonly abortedByClient: boolean[];
}

/**
 * A webhook whose first answer is small (a warm-up) and whose later answers stream `total` octets
 * of a JSON string, chunk by chunk as the client reads them, stopping when the client goes away.
 */
async function startStreamingServer(total: number): Promise<StreamingServer> {
  const sent: number[] = [];
  const abortedByClient: boolean[] = [];
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const n = sent.push(0) - 1;
      abortedByClient.push(false);
      if (n === 0) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"reply":"Order 1 shipped."}');
        return;
      }
      let closed = false;
      res.on('close', () => {
        closed = true;
        if (!res.writableFinished) abortedByClient[n] = true;
      });
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to refuse up front
      (async () => {
        res.write('{"reply":"');
        sent[n]! += 10;
        while (!closed && sent[n]! < total) {
          if (!res.write(chunk)) {
            await new Promise<void>((resume) => {
              const go = (): void => {
                res.off('drain', go);
                res.off('close', go);
                resume();
              };
              res.on('drain', go);
              res.on('close', go);
            });
          }
          sent[n]! += chunk.length;
        }
        if (!closed) res.end('"}');
      })().catch((err: unknown) => res.destroy(err as Error)); // the client sees the answer cut short
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`, sent, abortedByClient };
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

describe('webhook answers are capped', () => {
  it('a 100 MB answer raises the daemon RSS by less than 10 MB, is not read to its end, and ends in the fallback', async () => {
    const huge = await startStreamingServer(100 * 1024 * 1024);
    const sim = await h.startSim({ receiptDelayMs: 20 });
    const raw = {
      database: { url: TEST_DATABASE_URL, pool_size: 4 },
      redis: { url: TEST_REDIS_URL, prefix: h.prefix },
      http: { listen: '127.0.0.1:19464' },
      intake: { consumer: 'huge', block: '100ms' },
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '22222' }],
      webhooks: [{ name: 'huge', url: huge.url, secret: SECRET, timeout: '20s' }],
      numbers: [{ address: '22222', rules: [{ name: 'order-status', pattern: ORDER, actions: [{ webhook: 'huge', fallback: FALLBACK }] }] }],
    };
    const child = await startChild('test/support/daemon-child.ts', { PARLEY_TEST_CONFIG: JSON.stringify(raw), PARLEY_TEST_SCHEMA: h.schema.schema });
    try {
      const pid = child.pid!;
      // Warm up every path once (webhook call, answer, submit) so the baseline holds their code.
      expect(await sim.injectReply({ from: '14155558001', to: '22222', text: 'ORDER 1' }).acked).toBe(true);
      await h.until('warm-up answered', () => textsTo(sim, '14155558001').length === 1, 20_000);
      expect(textsTo(sim, '14155558001')).toEqual(['Order 1 shipped.']);

      let baseline = 0;
      for (let i = 0; i < 20; i++) {
        baseline = Math.max(baseline, rssBytes(pid));
        await sleep(20);
      }
      let peak = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          peak = Math.max(peak, rssBytes(pid));
          await sleep(5);
        }
      })();
      try {
        expect(await sim.injectReply({ from: '14155558002', to: '22222', text: 'ORDER 2' }).acked).toBe(true);
        await h.until('fallback sent', () => textsTo(sim, '14155558002').length === 1, 30_000);
        await sleep(300);
      } finally {
        watching = false;
        await watcher;
      }

      expect(textsTo(sim, '14155558002')).toEqual(['Sorry, we cannot look up order 2 right now.']);
      const reply = (await replyRows(h)).find((r) => r.from_addr === '14155558002')!;
      expect(reply).toMatchObject({ matched_kind: 'keyword', rule: 'order-status', status: 'handled' });
      // The request was aborted at the cap: the server saw the client go, far short of 100 MB.
      expect(huge.abortedByClient[1]).toBe(true);
      expect(huge.sent[1]!).toBeLessThan(10 * 1024 * 1024);
      expect(peak - baseline).toBeLessThan(10 * 1024 * 1024);
    } finally {
      await killed(child);
    }
  }, 90_000);

  it('postWebhook: an answer over the cap fails (declared or streamed), one at the cap is read; every POST has its own delivery id', async () => {
    const declared = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'));
        const body = Buffer.alloc(size, 'x');
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(size), 'x-seen-delivery': String(req.headers['x-parley-delivery']) });
        res.end(body);
      });
    });
    await new Promise<void>((r) => declared.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => (declared.closeAllConnections(), declared.close(() => r()))));
    const base = `http://127.0.0.1:${(declared.address() as net.AddressInfo).port}`;
    const target = (size: number) => ({ name: 'w', url: `${base}/?size=${size}`, secret: SECRET, timeoutMs: 5_000 });

    const atCap = await postWebhook(target(MAX_ANSWER_BYTES), { n: 1 });
    expect(atCap).toMatchObject({ ok: true, status: 200 });
    expect(atCap.ok && atCap.body.length).toBe(MAX_ANSWER_BYTES);
    const over = await postWebhook(target(MAX_ANSWER_BYTES + 1), { n: 2 });
    expect(over).toMatchObject({ ok: false, status: 200, error: `the answer is larger than ${MAX_ANSWER_BYTES} bytes; stopped reading at the cap` });

    const streamed = await startStreamingServer(5 * 1024 * 1024);
    const first = await postWebhook({ name: 's', url: streamed.url, secret: SECRET, timeoutMs: 5_000 }, {});
    const second = await postWebhook({ name: 's', url: streamed.url, secret: SECRET, timeoutMs: 5_000 }, {});
    expect(first).toMatchObject({ ok: true, body: '{"reply":"Order 1 shipped."}' });
    expect(second).toMatchObject({ ok: false, error: `the answer is larger than ${MAX_ANSWER_BYTES} bytes; stopped reading at the cap` });

    const ids = [atCap.delivery, over.delivery, first.delivery, second.delivery];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(4);
  });
});

describe('webhook URLs with credentials', () => {
  it('user and password in the URL go as HTTP Basic authorization, not in the request line', async () => {
    const seen: { url: string | undefined; authorization: string | undefined }[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ url: req.url, authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const port = (server.address() as net.AddressInfo).port;
    const result = await postWebhook({ name: 'w', url: `http://hook%40user:p%3Ass@127.0.0.1:${port}/in?team=7`, secret: SECRET, timeoutMs: 5_000 }, {});
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(seen).toEqual([{ url: '/in?team=7', authorization: `Basic ${Buffer.from('hook@user:p:ss').toString('base64')}` }]);
  });
});

describe('one slow webhook never delays other customers', () => {
  it('while a webhook takes 2 s, other customers (same batch and later ones) get their auto-replies at once; the slow customer is answered after, in order', async () => {
    // A webhook that answers after 2 s, echoing the order number.
    const calls: { order: string; calledAt: number; answeredAt?: number }[] = [];
    const slowServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const order = /ORDER (\d+)/.exec((JSON.parse(body) as { text: string }).text)?.[1] ?? '?';
        const call: (typeof calls)[number] = { order, calledAt: performance.now() };
        calls.push(call);
        setTimeout(() => {
          call.answeredAt = performance.now();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reply: `Order ${order} is on its way.` }));
        }, 2_000);
      });
    });
    await new Promise<void>((r) => slowServer.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => (slowServer.closeAllConnections(), slowServer.close(() => r()))));

    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '33333' }],
        webhooks: [{ name: 'slow', url: `http://127.0.0.1:${(slowServer.address() as net.AddressInfo).port}/hook`, secret: SECRET, timeout: '5s' }],
        numbers: [
          { address: '33333', rules: [{ name: 'order-status', pattern: ORDER, actions: [{ webhook: 'slow', fallback: FALLBACK }] }] },
          { address: '44444', rules: [{ name: 'hours', keywords: ['HOURS'], actions: [{ reply: 'Open 9-5.' }] }] },
        ],
      }),
    );

    // When each customer's answers reached the SMSC.
    const answeredAt = new Map<string, number[]>();
    let seen = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const a of sim.arrivals.slice(seen)) answeredAt.set(a.destination, [...(answeredAt.get(a.destination) ?? []), performance.now()]);
        seen = sim.arrivals.length;
        await sleep(5);
      }
    })();
    try {
      // The slow customer and another one in the same batch.
      const sentAt = performance.now();
      await Promise.all([
        sim.injectReply({ from: '14155559001', to: '33333', text: 'ORDER 7' }).acked,
        sim.injectReply({ from: '14155559002', to: '44444', text: 'hours' }).acked,
      ]);
      await h.until('the slow webhook is called', () => calls.length === 1);
      // While the webhook is still thinking: another customer in a later batch, and the slow
      // customer's second message, which must wait for their first.
      const laterSentAt = performance.now();
      expect(await sim.injectReply({ from: '14155559003', to: '44444', text: 'HOURS' }).acked).toBe(true);
      expect(await sim.injectReply({ from: '14155559001', to: '33333', text: 'ORDER 8' }).acked).toBe(true);
      await h.until('every answer sent', () => sim.arrivals.length === 4, 20_000);

      expect(textsTo(sim, '14155559001')).toEqual(['Order 7 is on its way.', 'Order 8 is on its way.']);
      expect(textsTo(sim, '14155559002')).toEqual(['Open 9-5.']);
      expect(textsTo(sim, '14155559003')).toEqual(['Open 9-5.']);
      // The others were answered while the webhook was still holding its first answer back...
      const firstAnswer = calls[0]!.answeredAt!;
      expect(answeredAt.get('14155559002')![0]!).toBeLessThan(firstAnswer);
      expect(answeredAt.get('14155559003')![0]!).toBeLessThan(firstAnswer);
      // ...within a small bound of their arrival, not after the 2 s of the slow one.
      expect(answeredAt.get('14155559002')![0]! - sentAt).toBeLessThan(1_000);
      expect(answeredAt.get('14155559003')![0]! - laterSentAt).toBeLessThan(1_000);
      // One customer's messages stay in order: the second went to the webhook after the first was answered.
      expect(calls.map((c) => c.order)).toEqual(['7', '8']);
      expect(calls[1]!.calledAt).toBeGreaterThanOrEqual(firstAnswer);
      expect(answeredAt.get('14155559001')![0]! - sentAt).toBeGreaterThanOrEqual(2_000);
    } finally {
      watching = false;
      await watcher;
    }
  }, 60_000);
});
