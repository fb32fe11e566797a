/**
 * Issue 9: a rule pattern that is catastrophic for a backtracking engine (`^(\w+\s?)*$`, which
 * froze the daemon for 12 s on 29 characters with V8's RegExp) meets 10 kB customer messages. The
 * daemon runs in a process of its own, with its ops endpoint, so /healthz is watched from outside
 * its event loop: it answers within 100 ms throughout, and the replies are still matched and
 * answered (the rule's answer for one that matches, the unmatched answer for the ones that do not).
 */
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, replyRows, sleep } from '../../support/two-way.ts';
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
  /** Stops polling and returns every latency seen (ms) and the failures. */
  stop(): Promise<{ latencies: number[]; failures: string[] }>;
}

/** GETs /healthz every ~20 ms until stopped, timing each answer. */
function watchHealth(url: string): HealthWatch {
  const latencies: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        await res.text();
        if (res.status !== 200) failures.push(`status ${res.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      latencies.push(performance.now() - started);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { latencies, failures };
    },
  };
}

describe('rule patterns cannot freeze the daemon', () => {
  it('a catastrophic pattern on 10 kB replies: /healthz answers within 100 ms throughout, and every reply is answered', async () => {
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
    const child = await startChild('test/support/daemon-child.ts', {
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
        await sleep(200); // a baseline before the first reply
        // Each ends in a character \w does not take: for a backtracking engine, every way of
        // splitting the words is tried before giving up (2^n); RE2 reads the text once.
        const poison = [
          ['14155557001', `${'a'.repeat(9_999)}!`],
          ['14155557002', `${'ab '.repeat(3_333)}!`],
          ['14155557003', `${'x'.repeat(5_000)} ${'y'.repeat(4_998)}?`],
        ] as const;
        for (const [, text] of poison) expect(text.length).toBeGreaterThanOrEqual(10_000);
        const injected = [...poison.map(([from, text]) => sim.injectReply({ from, to: '12345', text })), sim.injectReply({ from: '14155557004', to: '12345', text: 'hello there' })];
        for (const i of injected) expect(await i.acked).toBe(true);
        await h.until('every reply answered', () => sim.arrivals.length >= 4, 30_000);
        await sleep(200); // and after
      } finally {
        result = await watch.stop();
      }

      const textTo = (customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);
      expect(textTo('14155557001')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557002')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557003')).toEqual(['Sorry, we did not understand.']);
      expect(textTo('14155557004')).toEqual(['Words only, thanks.']);
      const rows = await replyRows(h);
      expect(rows.map((r) => [r.from_addr, r.body.length, r.matched_kind, r.rule]).sort()).toEqual([
        ['14155557001', 10_000, 'none', null],
        ['14155557002', 10_000, 'none', null],
        ['14155557003', 10_000, 'none', null],
        ['14155557004', 11, 'keyword', 'words'],
      ]);

      expect(result.failures).toEqual([]);
      expect(result.latencies.length).toBeGreaterThan(10);
      expect(Math.max(...result.latencies)).toBeLessThan(100);
    } finally {
      await killed(child);
    }
  }, 60_000);
});
