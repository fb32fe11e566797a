/**
 * Issue 9: a rule pattern that is catastrophic for a backtracking engine (`^(\w+\s?)*$`, which
 * froze the daemon for 12 s on 29 characters with V8's RegExp) meets 10 kB customer messages. The
 * daemon runs in a process of its own, with its ops endpoint, so /healthz is watched from outside
 * its event loop: it keeps answering before, between and after the replies (no request left
 * without an answer), and the replies are still matched and answered (the rule's answer for one
 * that matches, the unmatched answer for the ones that do not). Speed is not asserted: tests never
 * time, and a backtracking engine would not finish these replies at all within the test.
 */
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, replyRows } from '../../support/two-way.ts';
import { killed, startChild } from '../../support/child.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../support/services.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface HealthWatch {
  /** /healthz answers so far (each one 200 or a failure). */
  readonly answered: () => number;
  /** Stops polling and returns every latency seen (ms) and the failures. */
  stop(): Promise<{ latencies: number[]; failures: string[] }>;
}

/**
 * GETs /healthz every ~20 ms until stopped, timing each answer. The poller runs in a worker thread
 * of its own: the simulator's work on this test's main thread (66 parts per reply) must not be
 * counted as the daemon's latency.
 */
function watchHealth(url: string): HealthWatch {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const latencies = [];
    const failures = [];
    let running = true;
    parentPort.on('message', () => (running = false));
    const once = () => new Promise((resolve) => {
      const started = performance.now();
      const req = http.get(workerData.url, { agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failures.push('status ' + res.statusCode);
          resolve(performance.now() - started);
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (err) => {
        failures.push(err.message);
        resolve(performance.now() - started);
      });
    });
    (async () => {
      while (running) {
        latencies.push(await once());
        parentPort.postMessage({ answered: latencies.length });
        await new Promise((r) => setTimeout(r, 20));
      }
      agent.destroy();
      parentPort.postMessage({ done: { latencies, failures } });
    })();
    `,
    { eval: true, workerData: { url } },
  );
  let answered = 0;
  const result = new Promise<{ latencies: number[]; failures: string[] }>((resolve, reject) => {
    worker.on('message', (m: { answered?: number; done?: { latencies: number[]; failures: string[] } }) => {
      if (m.answered !== undefined) answered = m.answered;
      if (m.done) resolve(m.done);
    });
    worker.once('error', reject);
  });
  return {
    answered: () => answered,
    async stop() {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      return r;
    },
  };
}

describe('rule patterns cannot freeze the daemon', () => {
  it('a catastrophic pattern on 10 kB replies: /healthz keeps answering, and every reply is answered', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    const port = await freePort();
    const raw = {
      database: { url: TEST_DATABASE_URL, pool_size: 4 },
      redis: { url: TEST_REDIS_URL, prefix: h.prefix },
      http: { listen: `127.0.0.1:${port}` },
      intake: { consumer: 'regex', block: '100ms' },
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '12345' }],
      numbers: [
        {
          address: '12345',
          rules: [{ name: 'words', pattern: String.raw`^(\w+\s?)*$`, actions: [{ reply: 'Words only, thanks.' }] }],
          unmatched: { reply: 'Sorry, we did not understand.' },
        },
      ],
    };
    const child = await startChild(process.env.ELD ? 'test/support/daemon-child-eld.tmp.ts' : 'test/support/daemon-child.ts', {
      PARLEY_TEST_CONFIG: JSON.stringify(raw),
      PARLEY_TEST_SCHEMA: h.schema.schema,
      PARLEY_TEST_HTTP: '1',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await h.until('daemon ready (bound)', async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200);

      const watch = watchHealth(`${base}/healthz`);
      let result: { latencies: number[]; failures: string[] };
      try {
        // A baseline before the first reply: answers counted, not time slept.
        await h.until('/healthz answered before the replies', () => watch.answered() >= 5, 30_000);
        // Each of the first three ends in a character \w does not take: for a backtracking engine, every way of
        // splitting the words is tried before giving up (2^n); RE2 reads the text once.
        const poison = [
          ['14155557001', `${'a'.repeat(9_999)}!`],
          ['14155557002', `${'ab '.repeat(3_333)}!`],
          ['14155557003', `${'x'.repeat(5_000)} ${'y'.repeat(4_998)}?`],
          // And one for the trimming before any rule: a `[\s]+$` regex backtracks on a long inner run.
          ['14155557005', `x${' '.repeat(9_998)}x`],
        ] as const;
        for (const [, text] of poison) expect(text.length).toBeGreaterThanOrEqual(10_000);
        // One after the other, each answered before the next, and /healthz answered again after
        // each: the daemon is not frozen by any one of them.
        for (const [from, text] of [...poison, ['14155557004', 'hello there'] as const]) {
          expect(await sim.injectReply({ from, to: '12345', text }).acked).toBe(true);
          await h.until(`${from} answered`, () => sim.arrivals.some((a) => a.destination === from), 30_000);
          const seen = watch.answered();
          await h.until(`/healthz answered after ${from}`, () => watch.answered() >= seen + 2, 30_000);
        }
      } finally {
        result = await watch.stop();
      }

      const textTo = (customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);
      expect(textTo('14155557001')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557002')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557003')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557004')).toEqual(['Words only, thanks.']);
      expect(textTo('14155557005')).toEqual(['Sorry, we did not understand.']);
      const rows = await replyRows(h);
      expect(rows.map((r) => [r.from_addr, r.body.length, r.matched_kind, r.rule]).sort()).toEqual([
        ['14155557001', 10_000, 'none', null],
        ['14155557002', 10_000, 'none', null],
        ['14155557003', 10_000, 'none', null],
        ['14155557004', 11, 'keyword', 'words'],
        ['14155557005', 10_000, 'none', null],
      ]);

      // Every /healthz request answered 200 (a request unanswered for 5 s counts as a failure: a
      // failure timeout, not a speed bound).
      expect(result.failures).toEqual([]);
      expect(result.latencies.length).toBeGreaterThanOrEqual(5 + 2 * 5);
    } finally {
      await killed(child);
    }
  }, 60_000);
});
